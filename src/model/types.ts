/**
 * Shared shapes of the pipeline model. Every stage codes against these; the classes that
 * implement them live beside this file (pipeline.ts, stream.ts, table.ts, view.ts).
 */
import type { TSchema } from '@sinclair/typebox'

/** MergeTree-family engines a table or a view target may use. */
export type EngineName = 'MergeTree' | 'ReplacingMergeTree' | 'SummingMergeTree' | 'AggregatingMergeTree'

/** One ClickHouse column, derived from a schema field (see typemap.ts) or given explicitly. */
export interface ColumnDef {
  /** Column name, identical to the schema field name. */
  name: string
  /** ClickHouse type text, e.g. `String`, `Nullable(Float64)`, `Enum8('a' = 1, 'b' = 2)`. */
  type: string
  /** Column comment, set on a column added for a schema registry writer schema (transforms/evolution.ts). */
  comment?: string
}

/** What a schema registry writer schema changes in a pipeline (transforms/evolution.ts), reported to the main thread with each of its messages (WorkResult.evolution). */
export interface SchemaEvolution {
  /** Registry schema id of the writer schema. */
  schemaId: number
  /** The pipeline's `format.schemaRegistry.subject`, when it names one. */
  subject?: string
  /** Columns to add to the pipeline table, each with the comment that marks it added by evolution (clickhouse/columns.ts EVOLVED_COMMENT). */
  columns: ColumnDef[]
  /** Refused differences, one sentence each (which field and why). */
  problems: string[]
}

/** Table options, as written in a module. */
export interface TableConfig {
  /** ORDER BY key. The `Key` field must come first (contract: Key must be first in orderByFields). @default [the Key field] */
  orderByFields?: string[]
  /** @default 'MergeTree' */
  engine?: EngineName
  /** Extra MergeTree settings, e.g. `{ index_granularity: 8192 }`. */
  settings?: Record<string, string | number>
  /** Optional PARTITION BY expression (raw SQL over the columns). */
  partitionBy?: string
}

/** Stream options, as written in a module. */
export interface StreamConfig {
  /** Number of partitions of the topic and of parallel transform workers. Positive integer. @default 1 */
  parallelism?: number
  /** Topic retention in seconds (becomes `retention.ms`). Positive integer. @default 604_800 (7 days) */
  retentionPeriod?: number
}

/**
 * What a transform may return for one input record: an array of output records (possibly
 * empty, which filters the record), null/undefined (filters), or one output record.
 */
export type TransformResult<U> = U[] | U | null | undefined
export type TransformFn<T = any, U = any> = (record: T) => TransformResult<U> | Promise<TransformResult<U>>
export type ConsumerFn<T = any> = (record: T) => void | Promise<void>

/** Something records can be sent to from a stream. */
export type Destination = StreamLike | OlapTableLike

export interface OlapTableLike {
  readonly kind: 'table'
  readonly name: string
  readonly schema: TSchema
  /** Fully defaulted config. */
  readonly config: Required<Pick<TableConfig, 'orderByFields' | 'engine'>> & TableConfig
  /** Columns in schema order, mapped per typemap.ts. */
  readonly columns: ColumnDef[]
  /** Pipeline owning this table (same name); undefined for a bare table. */
  readonly pipeline?: string
}

export interface TransformDef {
  destination: Destination
  fn: TransformFn
  /** Position among the stream's transforms; stable across loads of the same module. */
  index: number
}

export interface StreamLike {
  readonly kind: 'stream'
  /** Stream name; also the Kafka topic name. */
  readonly name: string
  readonly schema: TSchema
  /** Fully defaulted config. */
  readonly config: Required<StreamConfig>
  /** Table every valid record of the stream is written to as-is, if any. */
  readonly destination?: OlapTableLike
  readonly transforms: TransformDef[]
  readonly consumers: ConsumerFn[]
  /** Pipeline owning this stream (for the DLQ topic, metrics labels); undefined for a bare stream. */
  readonly pipeline?: string
  /** Records with fields not in the schema: `ignore` (written without them, counted) or `dead_letter`. Absent means `ignore`. */
  readonly unknownFields?: 'ignore' | 'dead_letter'
}

/**
 * Where the schemas of a registry-encoded topic live (a Confluent-compatible Schema Registry REST
 * API, read with @kafkajs/confluent-schema-registry).
 */
export interface SchemaRegistryFormat {
  /** Base URL of the registry's Confluent REST API, `http:` or `https:`, e.g. `http://127.0.0.1:8081` (Apicurio: `…/apis/ccompat/v7`). */
  readonly url: string
  /** HTTP basic auth sent with every registry request. @default none */
  readonly auth?: { readonly username: string; readonly password: string }
  /** Subject the topic's schemas are registered under: named in dead-letter reasons, the default of `flowhouse replay --subject`. @default none */
  readonly subject?: string
  /**
   * TLS of an `https:` URL: `ca` (PEM text of the CA that signed the registry's certificate),
   * `cert` and `key` (PEM text of a client certificate and its key, both or neither),
   * `rejectUnauthorized` (false accepts any certificate; never in production). @default system CAs, no client certificate
   */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string; readonly rejectUnauthorized?: boolean }
}

/**
 * Wire format of a pipeline's messages: `'JSON_ARRAY'` (one JSON array of records per message), or
 * `{ schemaRegistry }`: one record per message in Confluent wire format (magic byte 0, 4-byte
 * big-endian schema id, Avro / Protobuf / JSON Schema payload).
 */
export type IngestFormat = 'JSON_ARRAY' | { readonly schemaRegistry: SchemaRegistryFormat }

export interface IngestPipelineLike {
  readonly kind: 'pipeline'
  readonly name: string
  readonly schema: TSchema
  /** Whether POST /ingest/<name> accepts records. @default true */
  readonly ingestApi: boolean
  /** Always present: a pipeline has a stream whose topic is the pipeline name. */
  readonly stream: StreamLike
  /** Present unless `table: false`. Same name as the pipeline. */
  readonly table?: OlapTableLike
  /** Whether bad input goes to `<name>.dlq`. @default true */
  readonly deadLetterQueue: boolean
  /** DLQ topic name: `<name>.dlq`. */
  readonly dlqTopic: string
  /** Wire format of the stream's messages: 'JSON_ARRAY' (the default), or Confluent wire format decoded through a schema registry. */
  readonly format?: IngestFormat
  /** Constraint definitions as written in the module; interpreted by src/constraints. */
  readonly constraints?: readonly unknown[]
}

/** A materialized view writing TO a target table. */
export interface MaterializedViewLike {
  readonly kind: 'view'
  readonly name: string
  /** SELECT statement over the source table. */
  readonly select: string
  /** Source table (a table object or its name). */
  readonly source: OlapTableLike | string
  readonly target: {
    name: string
    engine: EngineName
    orderByFields: string[]
    /** Explicit target columns; inferred from the SELECT (DESCRIBE) when absent. */
    columns?: ColumnDef[]
    settings?: Record<string, string | number>
  }
  /** How the view is kept current (fully defaulted by the MaterializedView class); absent means streaming. */
  readonly refresh?: ViewRefreshConfig
  /** Present for a view declared with from / groupBy / compute; `select` and `target` are generated from it. */
  readonly declarative?: DeclarativeView
  /** Column ordering inserts, used as the backfill cutoff; absent: ClickHouse's own insert order (block numbers). */
  readonly watermark?: string
  /** ClickHouse cluster (or 'auto') for ON CLUSTER DDL and a Distributed table `<name>_dist`. */
  readonly cluster?: string
  /** What the daemon says about the view when it loads it (e.g. a refresh mode forced by a non-incremental function). */
  readonly notes?: readonly string[]
}

/** Refresh modes of a view (contract: streaming is the default and uses ClickHouse's MV trigger). */
export type RefreshMode = 'streaming' | 'scheduled' | 'manual'
/** `replace` rebuilds the target and swaps it in atomically; `append` inserts the source rows added since the last refresh. */
export type RefreshStrategy = 'replace' | 'append'

/** How a view is kept current. */
export interface ViewRefreshConfig {
  mode: RefreshMode
  /** Cron expression (5 fields, or 6 with seconds first) for `scheduled`. */
  schedule?: string
  /** IANA time zone the schedule is read in. @default 'UTC' */
  timezone?: string
  /** @default 'replace' */
  strategy?: RefreshStrategy
  /** How long a stale view stays acceptable to read, in seconds. @default 0 */
  gracePeriodSeconds?: number
}

/** Aggregate functions of declarative views. count, sum, min, max and avg are incremental; the others need a full refresh. */
export type ComputeFunction = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'first' | 'last' | 'stddev' | 'variance'

/** One computed column of a declarative view. */
export interface ComputeDef {
  /** Output column name. */
  name: string
  fn: ComputeFunction
  /** Source column, or '*' for count. */
  column: string
  /** Ordering column of first / last. */
  by?: string
}

/** A declarative view, normalised. */
export interface DeclarativeView {
  /** Source table name. */
  from: string
  /** SQL predicate over source columns, or undefined. */
  filter?: string
  /** Grouping keys: output name and SQL expression (for a plain field path, its quoted SQL: `` `origin` ``, `` tupleElement(`properties`, 'place') ``). */
  groupBy: Array<{ name: string; expr: string }>
  compute: ComputeDef[]
  /** Name of the plain VIEW that merges the states: the view's own name. */
  queryView: string
  /** Name of the ClickHouse MATERIALIZED VIEW object (streaming only): `<name>_mv`. */
  mvName: string
  /** False when a function needs a full refresh (first, last, stddev, variance). */
  incremental: boolean
}

/** Everything one module declares, after following references from its exports. */
export interface ModuleDefinitions {
  /** Absolute path of the module file. */
  file: string
  pipelines: IngestPipelineLike[]
  streams: StreamLike[]
  tables: OlapTableLike[]
  views: MaterializedViewLike[]
}
