/**
 * The dead-letter vocabulary of the product contract (DESIGN.md "Dead-letter queue"): the stage at
 * which a record left the normal path and the item a stage reports for it. Every stage (decode,
 * validation, constraint, transform, insert) produces items, so the types live here, below them
 * all; the entry written to `<pipeline>.dlq` (item + source + time) is src/delivery/types.ts.
 */

/** Stage at which a record left the normal path (DESIGN.md: DLQ stages). */
export type DlqStage = 'decode' | 'validation' | 'constraint' | 'transform' | 'insert'

/**
 * Machine-readable error of a dead-letter entry, by stage (the README's "Dead letters" lists
 * each with when it happens): decode errors are checked before anything parses or recurses
 * into a value; `clickhouse_<type or code>` is the ClickHouse error that refused the row.
 */
export type DlqErrorType =
  | 'null_value'
  | 'empty_value'
  | 'message_too_large'
  | 'invalid_utf8'
  | 'max_depth_exceeded'
  | 'record_too_large'
  | 'invalid_json'
  | 'not_json_array'
  | 'invalid_magic_byte'
  | 'unknown_schema_id'
  | 'unusable_schema'
  | 'invalid_payload'
  | 'schema'
  | 'unknown_fields'
  | 'rate_limit_exceeded'
  | 'validation_failed'
  | 'resource_limit_exceeded'
  | 'transform_error'
  | 'output_schema'
  | 'consumer_error'
  | 'task_timeout'
  | `clickhouse_${string}`

/** A dead-letter entry as produced by a worker; the consumer adds source coordinates. */
export interface DlqItem {
  stage: DlqStage
  /** Machine-readable error type (DlqErrorType), e.g. `invalid_json`, `schema`, `transform_error`. */
  errorType: DlqErrorType
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
