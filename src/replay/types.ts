/** Shared shapes of the replay stage (file -> JSON_ARRAY or registry-encoded messages on a Kafka topic). */
import type { SchemaRegistryFormat } from '../model/types.ts'

/** Where and how rows are encoded for a registry topic. */
export interface ReplayRegistry {
  registry: SchemaRegistryFormat
  /** Subject the schema is registered under, e.g. `<topic>-value`. */
  subject: string
  /** Encoding of the messages: the registry's schema type. */
  schemaType: 'AVRO' | 'JSON' | 'PROTOBUF'
  /** Schema text to register (or find) under the subject: Avro JSON, JSON Schema, or proto3 (model/avro.ts, model/registry-schemas.ts, or a given file). */
  schema: string
}


/** One JSON-safe record: strings, finite numbers, booleans, null, arrays and plain objects only. */
export type ReplayRecord = Record<string, unknown>

/** Input formats, decided from the file extension (`.parquet`, `.json`). */
export type ReplayFormat = 'parquet' | 'json'

/** A run of consecutive records read from a file. */
export interface RecordChunk {
  /** 0-based row index in the file of `records[0]`; record `i` is row `firstRow + i`. */
  firstRow: number
  records: ReplayRecord[]
}

/** Counters of a running or finished replay; `records`/`messages`/`bytes` count acknowledged sends only. */
export interface ReplayProgress {
  /** Records acknowledged by the broker (acks = all). */
  records: number
  /** Kafka messages acknowledged; each is one JSON array of records. */
  messages: number
  /** Bytes of message values acknowledged (UTF-8 JSON). */
  bytes: number
  /** Records the replay will send when known (parquet: from the footer; JSON: only with `limit`). */
  total: number | undefined
  /** Milliseconds since the replay started. */
  elapsedMs: number
}

/** What `replay()` returns. */
export interface ReplayResult {
  /** Records acknowledged. They are the rows `[skip, skip + records)` of the file, so `skip + records` resumes an aborted replay. */
  records: number
  /** Messages acknowledged. */
  messages: number
  /** Bytes of message values acknowledged. */
  bytes: number
  /** Wall time of the replay in milliseconds, from opening the file to the last acknowledgement. */
  durationMs: number
  /** True when the AbortSignal stopped the replay before the end of the row range. */
  aborted: boolean
}
