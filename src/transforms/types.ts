/** Messages between the consumer (main thread) and the transform workers. */

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
  /** The original message value as UTF-8 text (for decode failures). */
  raw?: string
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
}

/** Rows for one destination table produced from one message, as JSONEachRow text. */
export interface TableRows {
  table: string
  /** One JSON object per line, each line ending in `\n`. */
  rows: string
  count: number
}

/** Records for one destination stream, each as JSON text. */
export interface TopicRecords {
  topic: string
  records: string[]
}

export interface WorkResult {
  /** Input records (1 for a message that is not a JSON array). */
  records: number
  tables: TableRows[]
  topics: TopicRecords[]
  dlq: DlqItem[]
  /** Input records that every transform filtered (returned null / []). */
  filtered: number
  /** Records a stream consumer (addConsumer) processed. */
  consumed: number
  /** Worker-side processing time in milliseconds. */
  durationMs: number
}
