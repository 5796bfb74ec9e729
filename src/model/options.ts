/**
 * Options of the model classes as users write them, and their defaults.
 */
import type { TSchema } from '@sinclair/typebox'
import type { ColumnDef, EngineName, IngestFormat, IngestPipelineLike, OlapTableLike, RefreshMode, RefreshStrategy, StreamConfig, StreamLike, TableConfig } from './types.ts'

/** Stream defaults. */
export const STREAM_DEFAULTS = {
  /** Partitions and parallel workers. @default 1 */
  parallelism: 1,
  /** Topic retention in seconds. @default 604_800 (7 days) */
  retentionPeriod: 604_800,
} as const satisfies Required<StreamConfig>

/** Engines a table or a view target may use; the first is the default. */
export const ENGINES: readonly EngineName[] = ['MergeTree', 'ReplacingMergeTree', 'SummingMergeTree', 'AggregatingMergeTree']
/** @default 'MergeTree' */
export const DEFAULT_ENGINE: EngineName = 'MergeTree'

/** The default wire format (contract: the HTTP ingest format is JSON_ARRAY). */
export const INGEST_FORMAT = 'JSON_ARRAY'

/**
 * What happens to a record carrying fields its schema does not declare: `ignore` writes the
 * record without them (counted in flowhouse_records_unknown_fields_total), `dead_letter`
 * sends it to the DLQ naming the fields.
 */
export type UnknownFieldPolicy = 'ignore' | 'dead_letter'
/** Policies in the order they are listed in messages; the first is the default. */
export const UNKNOWN_FIELD_POLICIES: readonly UnknownFieldPolicy[] = ['ignore', 'dead_letter']

/** Pipeline defaults. */
export const PIPELINE_DEFAULTS = {
  /** Fields not in the schema are ignored (and counted). @default 'ignore' */
  unknownFields: 'ignore' as UnknownFieldPolicy,
  /** POST /ingest/<name> accepts records. @default true */
  ingestApi: true,
  /** Bad input goes to `<name>.dlq`. @default true */
  deadLetterQueue: true,
} as const

/**
 * Marks a stream or table as created by a pipeline (value: the pipeline name) so that its
 * configuration errors are reported for the pipeline. Not part of the public API.
 */
export const OWNED_BY: unique symbol = Symbol('flowhouse.ownedBy')

/** Options of `new OlapTable(name, schema, options)`. */
export interface TableOptions extends TableConfig {
  [OWNED_BY]?: string
}

/** Options of `new Stream(name, schema, options)`. */
export interface StreamOptions extends StreamConfig {
  /** Records with fields not in the schema: written without them, or dead-lettered. @default 'ignore' */
  unknownFields?: UnknownFieldPolicy
  /** Table every valid record is written to as-is: an OlapTable, a pipeline (its table), or the name of a table declared in the same module. */
  destination?: OlapTableLike | IngestPipelineLike | string
  [OWNED_BY]?: string
}

/** Options of `new IngestPipeline(name, options)`. */
export interface IngestPipelineOptions<S extends TSchema = TSchema> {
  /** Record schema (a `t.Object`). */
  schema: S
  /** Accept records on POST /ingest/<name>. @default true */
  ingestApi?: boolean
  /** Stream options; `true` for the defaults. `false` is an error: a pipeline always has a stream. @default true */
  stream?: StreamConfig | boolean
  /** Table options; `true` for the defaults, `false` for no table. @default true */
  table?: TableConfig | boolean
  /** Send bad input to `<name>.dlq`. @default true */
  deadLetterQueue?: boolean
  /** Records with fields not in the schema: `'ignore'` writes them without those fields (counted in a metric), `'dead_letter'` dead-letters them. @default 'ignore' */
  unknownFields?: UnknownFieldPolicy
  /**
   * Wire format of the stream's messages: 'JSON_ARRAY', or `{ schemaRegistry: { url, auth?, subject? } }`
   * for Confluent wire-format messages (one record each) decoded through a schema registry; such a
   * pipeline has no ingest API (ingestApi defaults to false; true is an error). @default 'JSON_ARRAY'
   */
  format?: IngestFormat
  /** Constraint definitions, stored as given on `pipeline.constraints` (see src/constraints). */
  constraints?: unknown[]
}

/** Something a transform may send records to: a stream, a table, a pipeline (its stream), or the name of a stream or table of the same module. */
export type DestinationInput = StreamLike | OlapTableLike | IngestPipelineLike | string

/** Options of `new MaterializedView(options)`. */
export interface MaterializedViewOptions {
  /** View name (ClickHouse identifier). */
  name: string
  /** SELECT statement over the source table. */
  select: string
  /** Source: an OlapTable, a pipeline (its table), or a table name. */
  source: OlapTableLike | IngestPipelineLike | string
  /** Table the view writes TO, created with the view. */
  target: {
    name: string
    /** @default 'MergeTree' */
    engine?: EngineName
    /** ORDER BY of the target; at least one column. */
    orderByFields: string[]
    /** Explicit columns; inferred from the SELECT when absent. */
    columns?: ColumnDef[]
    settings?: Record<string, string | number>
  }
  /** How the view is kept current. @default { mode: 'streaming' } */
  refresh?: ViewRefreshOptions
  /** Backfill cutoff column (a key or insert-time column that grows with inserts). @default ClickHouse's insert order (block numbers) */
  watermark?: string
  /** Cluster name, or 'auto' to take the one cluster of system.clusters: DDL runs ON CLUSTER and `<name>_dist` is created. @default none */
  cluster?: string
}

/** Refresh options as written in a module. */
export interface ViewRefreshOptions {
  /** @default 'streaming' ('manual' for a declarative view with a non-incremental function) */
  mode?: RefreshMode
  /** Cron expression for `scheduled`, e.g. '0 * * * *' (hourly) or '*\/10 * * * * *' (every 10 s, seconds first). */
  schedule?: string
  /** IANA time zone of the schedule. @default 'UTC' */
  timezone?: string
  /** @default 'replace' */
  strategy?: RefreshStrategy
  /** How long a stale view stays acceptable: seconds, or text such as '15m', '1h', '30s'. @default 0 */
  gracePeriod?: number | string
}

/** One computed column of a declarative view: `{ count: '*' }`, `{ avg: 'delay' }`, `{ first: 'delay', by: 'date' }` ... */
export type ComputeInput =
  | { count: string }
  | { sum: string }
  | { min: string }
  | { max: string }
  | { avg: string }
  | { first: string; by?: string }
  | { last: string; by?: string }
  | { stddev: string }
  | { variance: string }

/**
 * Options of a declarative view: `new MaterializedView({ name, from, filter?, groupBy, compute, refresh? })`.
 * The daemon generates an AggregatingMergeTree target `<name>_state`, the MV `<name>_mv` and a
 * VIEW `<name>` that merges the states (contract: avg is kept as a sum and a count).
 */
export interface DeclarativeViewOptions {
  /** Name of the VIEW users query. */
  name: string
  /** Source: an OlapTable, a pipeline (its table), or a table name. */
  from: OlapTableLike | IngestPipelineLike | string
  /** SQL predicate over source columns, e.g. "distance > 500". */
  filter?: string
  /** Grouping keys: column names, or `{ alias: 'SQL expression' }`, e.g. ['origin', { day: 'toDate(date)' }]. */
  groupBy: Array<string | Record<string, string>>
  /** Output columns: `{ flights: { count: '*' }, avg_delay: { avg: 'delay' } }`. */
  compute: Record<string, ComputeInput>
  refresh?: ViewRefreshOptions
  watermark?: string
  cluster?: string
}
