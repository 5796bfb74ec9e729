/** Public surface of the replay stage: `flowhouse replay FILE --pipeline NAME`. */
export { replay } from './replay.ts'
export { runReplayCommand, parseBrokers, type ReplayCommandOptions } from './command.ts'
export { createProgressPrinter, formatProgress, formatSummary, type ProgressPrinter, type ProgressPrinterOptions } from './progress.ts'
export { openReader, readAll, formatOf, type RecordReader } from './readers.ts'
export { assignIds, rowRange, type RowRange } from './rows.ts'
export { normalizeValue, normalizeTimestampText } from './normalize.ts'
export { replayDefaults, type ReaderOptions, type ReplayOptions, type RowSelection } from './options.ts'
export type { RecordChunk, ReplayFormat, ReplayProgress, ReplayRecord, ReplayResult } from './types.ts'
