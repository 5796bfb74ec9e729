/** Messages between the consumer (main thread) and the transform workers. */
import type { ConstraintAction, ConstraintSnapshot, ConstraintType } from '../constraints/types.ts'
import type { WorkBounds } from './decode.ts'

/** Stage at which a record left the normal path (DESIGN.md: DLQ stages). */
export type DlqStage = 'decode' | 'validation' | 'constraint' | 'transform' | 'insert'

/** A dead-letter entry as produced by a worker; the consumer adds source coordinates. */
export interface DlqItem {
  stage: DlqStage
  /** Machine-readable error type, e.g. `invalid_json`, `not_json_array`, `schema`, `transform_error`. */
  errorType: string
  /** Human-readable reason naming the rule and field where there is one. */
  reason: string
  /** Index of the record inside the message's JSON array; absent for whole-message failures. */
  index?: number
  /** The record as decoded (for record-level failures). */
  record?: unknown
  /** The original message value (or record text) as UTF-8, at most FLOWHOUSE_DLQ_RAW_KEEP_BYTES of it (for decode failures). */
  raw?: string
  /** True when `raw` holds only the first bytes; re-read the source offset for the rest. */
  truncated?: boolean
  /** Size in bytes of the whole raw value (present when truncated, or for invalid UTF-8). */
  rawBytes?: number
  /** SHA-256 (hex) of the whole raw value's bytes (present with rawBytes). */
  rawSha256?: string
  /** Table whose insert refused the record (stage `insert`): `record` is that table's row. */
  table?: string
  /**
   * Stage `transform`: the stream's own table the record was written to all the same. A replay of
   * the entry skips that table (WorkTask.skipTable), so the row is not written twice.
   */
  writtenTo?: string
}

/** One Kafka message to decode, validate and transform. */
export interface WorkTask {
  /** Absolute path of the pipeline module declaring the stream. */
  file: string
  /** Module version (e.g. its mtime) so a changed module is re-imported. */
  version: string
  /** Stream name (= topic). */
  stream: string
  /** The message value (JSON array text). */
  value: Uint8Array
  /** Enabled constraints of the stream's pipeline, highest priority first. */
  constraints?: ConstraintSnapshot[]
  /** A table the stream's own destination must not be written for this message (a replayed dead letter already written there). */
  skipTable?: string
  /** Record indexes whose transform never returned on an earlier attempt (worker stopped): dead-lettered without running. */
  stuck?: number[]
  /** Depth and size bounds (src/transforms/decode.ts DEFAULT_BOUNDS when absent). */
  bounds?: WorkBounds
  /** Progress shared with the consumer: [0] = index of the record in the transforms, [1] = its start (ms, performance.timeOrigin based). */
  progress?: SharedArrayBuffer
}

/** Several messages processed by one worker task, in order; the worker answers one WorkResult per task. */
export interface WorkBatch {
  many: WorkTask[]
}

/** A constraint violation found while processing a message. */
export interface ViolationItem {
  constraint: string
  type: ConstraintType
  /** What was done to the record. */
  action: ConstraintAction
  /** Index of the record in the message. */
  index: number
  /** The record's Key field value ('' when it has none). */
  key: string
  field?: string
  rule?: string
  reason: string
  record?: unknown
}

/** Constraint outcomes of one message. */
export interface ConstraintResult {
  /** Records evaluated, per constraint name. */
  checks: Record<string, number>
  /** Violations decided in the worker (the record is removed). */
  violations: ViolationItem[]
  /** Records counted against each throttling rate limit, per constraint, per key. */
  throttle: Record<string, Record<string, number>>
  /**
   * Records that reach a rate limit whose action removes them: the consumer checks the rates in
   * order; if one refuses, that violation applies, otherwise `terminal` (a later violation) does,
   * otherwise the record stays.
   */
  deferred: Array<{ index: number; rates: Array<{ constraint: string; key: string }>; /** The record and its Key value. */ record: unknown; key: string; terminal?: ViolationItem; /** Destinations whose transform filtered it (counted in `filtered` and `filteredBy`). */ filteredBy?: string[] }>
}

/** Rows for one destination table produced from one message, as JSONEachRow text. */
export interface TableRows {
  table: string
  /** One JSON object per line, each line ending in `\n`. */
  rows: string
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
