/**
 * Options of the replay stage and their defaults. Row selection (`skip`, `limit`) and row
 * identity (`idField`) are shared by the readers and the producer.
 */
import type { KafkaSecurity } from '../kafka/options.ts'
import type { ReplayProgress, ReplayRegistry } from './types.ts'

/** Which rows of a file to read, and how records get an id. */
export interface RowSelection {
  /**
   * 0-based index of the first row to read; rows before it are skipped (still scanned for JSON,
   * skipped by row group for parquet). @default 0
   */
  skip?: number
  /** Stop after this many rows; undefined reads to the end of the file. @default undefined */
  limit?: number
  /**
   * Row identity. A record whose `idField` is absent (undefined or null) gets the record's 0-based
   * row index in the file as a decimal string (`"1234"`), independent of `skip`/`limit` and of the
   * batch size, so replays of the same file produce the same ids and a re-sent row keeps its id.
   * A record that already has the field keeps its value. Set to `null` to never add ids.
   * @default 'id'
   */
  idField?: string | null
}

/** Options of `openReader`. */
export interface ReaderOptions extends RowSelection {
  /** Records per chunk yielded by the reader (memory bound of one chunk). @default 10_000 */
  chunkRows?: number
  /**
   * JSON only: rewrite top-level `YYYY/MM/DD HH:MM[:SS]` strings (the vega flights `date` format)
   * to ISO-8601 UTC (`YYYY-MM-DDTHH:MM:SS.000Z`), the form parquet timestamps get. @default true
   */
  normalizeDates?: boolean
}

/** Options of `replay()`. */
export interface ReplayOptions extends RowSelection {
  /** Path of a `.parquet` file or of a `.json` file holding one JSON array of records. */
  file: string
  /** Kafka topic to produce to; it must exist (topics are never auto-created). */
  topic: string
  /** Kafka bootstrap brokers, `host:port`. @default ['127.0.0.1:9092'] */
  brokers?: string[]
  /** Records per Kafka message; each message value is one JSON array of at most this many records. @default 1_000 */
  batch?: number
  /**
   * Upper bound on records sent per second (token bucket, burst of 1/10 s). When below
   * 10 × batch, messages shrink to ⌈rate / 10⌉ records so that pacing stays smooth. @default unlimited
   */
  rate?: number
  /** Producer sends (each one produce request) queued at once; one is sent at a time, in order. @default 4 */
  maxInFlight?: number
  /** Target size of one send (messages are grouped until it is reached), in bytes. @default 1 MiB */
  sendBytes?: number
  /** Use the idempotent producer (no duplicates from producer retries). @default true */
  idempotent?: boolean
  /** Read the file and encode messages in a worker thread, leaving this thread to kafkajs. @default true */
  encodeInWorker?: boolean
  /**
   * Encode each row as its own Confluent wire-format Avro message through this registry (the
   * schema registered under the subject) instead of JSON arrays; `batch` and `encodeInWorker` do
   * not apply. @default JSON_ARRAY messages
   */
  registry?: ReplayRegistry
  /** Kafka client id. @default 'flowhouse-replay' */
  clientId?: string
  /** TLS and SASL of the connections (resolveKafkaSecurity, env KAFKA_SSL*, KAFKA_SASL_*). @default PLAINTEXT */
  security?: KafkaSecurity
  /** Called after each acknowledged send with the running counters; must not throw. */
  onProgress?: (progress: ReplayProgress) => void
  /** Stops the replay: no new sends, in-flight sends are awaited, then `replay()` resolves with `aborted: true`. */
  signal?: AbortSignal
}

export const replayDefaults = {
  brokers: ['127.0.0.1:9092'],
  batch: 1_000,
  maxInFlight: 4,
  sendBytes: 1_048_576,
  idempotent: true,
  encodeInWorker: true,
  clientId: 'flowhouse-replay',
  idField: 'id',
  chunkRows: 10_000,
} as const
