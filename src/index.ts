/**
 * flowhouse's public API for pipeline modules:
 *
 *   import { IngestPipeline, Stream, OlapTable, MaterializedView, Key, t, type Static } from 'flowhouse'
 */
export { IngestPipeline } from './model/pipeline.ts'
export { Stream } from './model/stream.ts'
export { OlapTable } from './model/table.ts'
export { MaterializedView } from './model/view.ts'
export { Key, t, type Static } from './model/schema.ts'
export { ConfigError } from './errors.ts'
export type { IngestPipelineOptions, MaterializedViewOptions, StreamOptions } from './model/options.ts'
export type { ColumnDef, EngineName, StreamConfig, TableConfig, TransformFn, TransformResult, ConsumerFn } from './model/types.ts'
