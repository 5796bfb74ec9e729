/** Messages between the consumer (main thread) and the transform workers. */
import type { ConstraintResult, ConstraintSnapshot } from '../constraints/types.ts'
import type { DlqItem } from '../model/dlq.ts'
import type { DecodeLimits } from './bounds.ts'
import type { SchemaEvolution } from '../model/types.ts'

/** Bounds applied in a worker. */
export interface WorkBounds extends DecodeLimits {
  /** Longest raw text kept in a dead-letter entry, in bytes. */
  rawKeepBytes: number
}

/** One Kafka message to decode, validate and transform. */
export interface WorkTask {
  /** Absolute path of the pipeline module declaring the stream. */
  file: string
  /** Module version (e.g. its mtime) so a changed module is re-imported. */
  version: string
  /** Stream name (= topic). */
  stream: string
  /** The message value (JSON array text, or a Confluent wire-format value on a schema registry pipeline). */
  value: Uint8Array
  /** Enabled constraints of the stream's pipeline, highest priority first. */
  constraints?: ConstraintSnapshot[]
  /** A table the stream's own destination must not be written for this message (a replayed dead letter already written there). */
  skipTable?: string
  /** Record indexes whose transform never returned on an earlier attempt (worker stopped): dead-lettered without running. */
  stuck?: number[]
  /** Decode the value as a JSON array whatever the pipeline's format (a replayed dead letter: src/kafka/dlq-replay.ts writes JSON). */
  json?: boolean
  /** Depth and size bounds (src/transforms/decode.ts DEFAULT_BOUNDS when absent). */
  bounds?: WorkBounds
  /** Progress shared with the consumer: [0] = index of the record in the transforms, [1] = its start (ms, performance.timeOrigin based). */
  progress?: SharedArrayBuffer
}

/** Several messages processed by one worker task, in order; the worker answers one WorkResult per task. */
export interface WorkBatch {
  many: WorkTask[]
}

/** A task that only has the worker thread load a stream's pipeline module (TransformPool.prepare). */
export interface WorkLoad {
  load: Pick<WorkTask, 'file' | 'version' | 'stream'>
}

/** Rows for one destination table produced from one message, as JSONEachRow bytes. */
export interface TableRows {
  table: string
  /**
   * UTF-8 JSONEachRow: one JSON object per line, each line ending in `\n`. Owns its whole
   * ArrayBuffer (util/lines.ts encodeLines), which the worker transfers to the main thread: the
   * bytes are not copied on the way, and they go to the insert as they are.
   */
  rows: Uint8Array
  count: number
  /** Index of the source record of each line; present when some record may still be removed by the consumer. */
  sources?: number[]
}

/** Records for one destination stream, each as JSON text. */
export interface TopicRecords {
  topic: string
  records: string[]
  /** Index of the source record of each record; present as for TableRows. */
  sources?: number[]
}

export interface WorkResult {
  /** Input records (1 for a message that is not a JSON array). */
  records: number
  tables: TableRows[]
  topics: TopicRecords[]
  dlq: DlqItem[]
  /**
   * Filter outcomes: for each transform, the input records it returned null or [] for (a record
   * two transforms filter counts twice, once per destination). Sum of `filteredBy`.
   */
  filtered: number
  /** `filtered` by transform destination (table or stream name). */
  filteredBy?: Record<string, number>
  /** Records a stream consumer (addConsumer) processed. */
  consumed: number
  /** Valid records that carried fields not in the schema, ignored (policy `ignore`); absent when none. */
  unknownFields?: number
  /**
   * Present when the message could not be processed now and must be retried (a schema registry
   * that cannot be reached or answers 5xx): the reason. Such a result carries no records or dead
   * letters and must never join a batch; the consumer waits and runs the message again.
   */
  retry?: string
  /**
   * Present on a schema registry message whose writer schema adds or refuses fields
   * (transforms/evolution.ts): the consumer adds the columns before the message's batch is
   * inserted and reports the problems (clickhouse/evolve.ts).
   */
  evolution?: SchemaEvolution
  /** Worker-side processing time in milliseconds. */
  durationMs: number
  /** Present when the pipeline has enabled constraints. */
  constraints?: ConstraintResult
  /**
   * Dead-letter items serialised in the worker (set by worker.ts, which then empties `dlq`):
   * each text is an item's JSON without its braces, so a message of 100,000 bad records crosses
   * to the main thread as strings, not objects. `stages` counts them per stage.
   */
  dlqText?: { texts: string[]; stages: Record<string, number> }
}
