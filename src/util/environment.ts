/**
 * The environment flowhouse reads, as one TypeBox schema (ENVIRONMENT), and its one reader
 * (`setting`, `readEnvironment`). Every variable the daemon and the CLI read is a property here,
 * with its type, bounds, default and unit; the resolvers (config.ts resolveConfig, the ClickHouse,
 * Kafka, view and sandbox options, the logger, the failpoints) read their variables through
 * `setting`, so a variable has one default and one error for one mistake wherever it is read.
 * README.md "Configuration (environment)" is checked against this schema by a unit test
 * (test/unit/docs/docs.test.ts).
 *
 * Rules (the same for every variable):
 *  - unset or empty: the schema's `default` (undefined when it has none);
 *  - an integer: `Number(text)` must be an integer within `minimum`..`maximum` (minimum 1 unless
 *    given), else ConfigError `environment NAME="text": must be a positive integer (unit)` (or
 *    `an integer ≥ MIN`, `an integer from MIN to MAX`);
 *  - a flag: `true`/`false`/`1`/`0` in any case, else `… must be true or false`;
 *  - one of a list: exactly one of its values, else `… must be a or b` (`a, b or c`).
 */
import { Type, type Static, type TLiteral, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ConfigError } from '../errors.ts'
import { checkedInt } from './env.ts'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

/** Annotations every variable carries besides JSON Schema's own. */
interface Doc {
  /** What the value counts, named in errors: `ms`, `seconds`, `bytes`, `rows`. */
  unit?: string
  /** The default as the README shows it, when it is computed rather than a fixed value. */
  defaultText?: string
}

const int = (value: number, description: string, bounds: { min?: number; max?: number } & Doc = {}) => {
  const { min = 1, max, ...doc } = bounds
  return Type.Integer({ default: value, minimum: min, ...(max !== undefined ? { maximum: max } : {}), description, ...doc })
}
const text = (value: string, description: string, doc: Doc = {}) => Type.String({ default: value, description, ...doc })
const optional = (description: string, doc: Doc = {}) => Type.Optional(Type.String({ description, ...doc }))
const flag = (value: boolean, description: string, doc: Doc = {}) => Type.Boolean({ default: value, description, ...doc })
const optionalFlag = (description: string, doc: Doc = {}) => Type.Optional(Type.Boolean({ description, ...doc }))
const literals = <const V extends string>(values: readonly V[], options: object) => Type.Union(values.map((v) => Type.Literal(v)) as Array<TLiteral<V>>, options)
const oneOf = <const V extends string>(values: readonly V[], value: NoInfer<V>, description: string, doc: Doc = {}) => literals(values, { default: value, description, ...doc })
const optionalOneOf = <const V extends string>(values: readonly V[], description: string, doc: Doc = {}) => Type.Optional(literals(values, { description, ...doc }))

/** Every environment variable flowhouse reads (README.md "Configuration (environment)"). */
export const ENVIRONMENT = Type.Object({
  // Daemon
  FLOWHOUSE_PIPELINES: text('pipelines', 'folder of pipeline modules'),
  FLOWHOUSE_PORT: int(4000, 'HTTP port'),
  FLOWHOUSE_HOST: text('127.0.0.1', 'HTTP listen address'),
  FLOWHOUSE_DATA_DIR: text('.data', 'data folder of the embedded engine'),
  FLOWHOUSE_RELOAD_INTERVAL_MS: int(1_000, 'how often the pipelines folder is checked; 0 turns hot reload off', { min: 0, unit: 'ms' }),
  FLOWHOUSE_DRAIN_TIMEOUT_MS: int(20_000, 'how long SIGTERM waits for consumers to flush, commit and leave', { unit: 'ms' }),
  FLOWHOUSE_REDIS_URL: optional('Redis of cluster-wide rate limits'),
  FLOWHOUSE_LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'pino log level'),
  FLOWHOUSE_LOG_FORMAT: optionalOneOf(['pretty', 'json'], 'log line format', { defaultText: 'pretty on a terminal, else json' }),
  FLOWHOUSE_FAILPOINTS: optional('failpoints to arm (tests only)'),
  // Kafka
  KAFKA_BROKERS: text('127.0.0.1:9092', 'comma-separated bootstrap brokers'),
  FLOWHOUSE_CLIENT_ID: text('flowhouse', 'Kafka client id'),
  FLOWHOUSE_GROUP_PREFIX: text('flowhouse', 'consumer group = <prefix>.<stream>'),
  FLOWHOUSE_KAFKA_SESSION_TIMEOUT_MS: int(10_000, 'consumer group session timeout', { unit: 'ms' }),
  FLOWHOUSE_KAFKA_HEARTBEAT_INTERVAL_MS: int(3_000, 'consumer group heartbeat interval', { unit: 'ms' }),
  FLOWHOUSE_KAFKA_FETCH_MAX_BYTES_PER_PARTITION: int(2 * MiB, 'bytes fetched per partition and request', { unit: 'bytes' }),
  FLOWHOUSE_KAFKA_FETCH_MAX_BYTES: int(16 * MiB, 'bytes of one fetch response', { unit: 'bytes' }),
  KAFKA_SSL: optionalFlag('TLS to the brokers', { defaultText: 'true once a CA or certificate file is set, else false' }),
  KAFKA_SSL_CA_FILE: optional('PEM of the brokers\' CA'),
  KAFKA_SSL_CERT_FILE: optional('client certificate (PEM)'),
  KAFKA_SSL_KEY_FILE: optional('client key (PEM)'),
  KAFKA_SSL_KEY_PASSWORD: optional('passphrase of the client key'),
  KAFKA_SSL_REJECT_UNAUTHORIZED: flag(true, 'refuse a broker certificate no trusted CA signed'),
  KAFKA_SASL_MECHANISM: optional('plain, scram-sha-256 or scram-sha-512 (any case)'),
  KAFKA_SASL_USERNAME: optional('SASL user'),
  KAFKA_SASL_PASSWORD: optional('SASL password'),
  KAFKA_SASL_PASSWORD_FILE: optional('file holding the SASL password'),
  // Delivery
  FLOWHOUSE_BATCH_MAX_ROWS: int(100_000, 'rows of a partition batch before it is flushed', { unit: 'rows' }),
  FLOWHOUSE_BATCH_MAX_BYTES: int(8 * MiB, 'bytes a partition batch holds before it is flushed', { unit: 'bytes' }),
  FLOWHOUSE_BATCH_FLUSH_MS: int(250, 'age of a partition batch at which it is flushed', { unit: 'ms' }),
  FLOWHOUSE_INFLIGHT_MESSAGES: int(2_048, 'messages of one partition in the workers at once', { max: 100_000 }),
  FLOWHOUSE_INFLIGHT_BYTES: int(4 * MiB, 'value bytes of the messages of one partition in the workers at once', { unit: 'bytes' }),
  FLOWHOUSE_INSERT_RETRY_BASE_MS: int(250, 'first wait before a retried insert', { unit: 'ms' }),
  FLOWHOUSE_INSERT_RETRY_MAX_MS: int(30_000, 'longest wait before a retried insert', { unit: 'ms' }),
  FLOWHOUSE_RECORDS_PER_MESSAGE: int(1_000, 'records per Kafka message the daemon produces'),
  FLOWHOUSE_MAX_DEPTH: int(64, 'deepest record nesting accepted (structured clone between threads drops values nested a few thousand levels deep)', { max: 1_000 }),
  FLOWHOUSE_MAX_RECORD_BYTES: int(MiB, 'largest record (its JSON text)', { unit: 'bytes' }),
  FLOWHOUSE_MAX_MESSAGE_BYTES: int(16 * MiB, 'largest Kafka message value consumed', { unit: 'bytes' }),
  FLOWHOUSE_TASK_TIMEOUT_MS: int(60_000, 'worker task timeout', { unit: 'ms' }),
  FLOWHOUSE_DLQ_RAW_KEEP_BYTES: int(64 * KiB, 'leading bytes of a message or record kept in a dead-letter entry', { unit: 'bytes' }),
  // HTTP and access
  FLOWHOUSE_INGEST_MAX_BYTES: int(16 * MiB, 'largest POST /ingest body', { unit: 'bytes' }),
  FLOWHOUSE_API_KEYS: optional('comma-separated <scope>:<sha256 hex> entries'),
  FLOWHOUSE_API_KEYS_FILE: optional('file of <scope>:<sha256 hex> entries, one per line'),
  FLOWHOUSE_METRICS_AUTH: oneOf(['none', 'read'], 'none', 'whether GET /metrics needs a read key'),
  FLOWHOUSE_ALLOWED_HOSTS: optional('comma-separated Host names accepted besides loopback while no key is configured'),
  // Operations
  FLOWHOUSE_METRICS_INTERVAL_MS: int(10_000, 'refresh of consumer lag and readiness gauges', { unit: 'ms' }),
  FLOWHOUSE_READY_PAUSE_THRESHOLD_MS: int(60_000, '/ready fails while an insert has waited longer than this', { unit: 'ms' }),
  FLOWHOUSE_HEALTH_MAX_EVENT_LOOP_DELAY_MS: int(5_000, '/health fails above this event-loop p99 delay', { unit: 'ms' }),
  FLOWHOUSE_STALL_SECONDS: int(60, 'a partition with lag and no commit this long is stalled', { unit: 'seconds' }),
  FLOWHOUSE_VIOLATIONS_TTL_SECONDS: int(30 * 86_400, 'how long constraint violations are kept', { unit: 'seconds' }),
  FLOWHOUSE_VIOLATIONS_MAX_KEYS_PER_SECOND: int(1_000, 'record keys stored per constraint and second'),
  // Materialized views
  FLOWHOUSE_MV_BATCH_ROWS: int(1_000_000, 'source rows per backfill batch', { unit: 'rows' }),
  FLOWHOUSE_MV_BACKFILL_PAUSE_MS: int(0, 'pause between backfill batches', { min: 0, unit: 'ms' }),
  FLOWHOUSE_MV_CLUSTER: optional('default cluster of new views: a name or auto'),
  FLOWHOUSE_MV_STATUS_INTERVAL_MS: int(5_000, 'how often view staleness is recomputed', { min: 100, unit: 'ms' }),
  // ClickHouse
  CLICKHOUSE_URL: optional('ClickHouse server over HTTP; unset = embedded engine'),
  CLICKHOUSE_USER: text('default', 'server user'),
  CLICKHOUSE_PASSWORD: text('', 'server password'),
  CLICKHOUSE_DATABASE: text('default', 'database'),
  CLICKHOUSE_TLS_CA_FILE: optional('PEM of the server\'s CA'),
  CLICKHOUSE_TLS_CERT_FILE: optional('client certificate (PEM)'),
  CLICKHOUSE_TLS_KEY_FILE: optional('client key (PEM)'),
  FLOWHOUSE_CHDB_MAX_MEMORY_BYTES: int(GiB, 'embedded engine: max_server_memory_usage', { unit: 'bytes' }),
  FLOWHOUSE_CHDB_MARK_CACHE_BYTES: int(64 * MiB, 'embedded engine: mark_cache_size', { unit: 'bytes' }),
  FLOWHOUSE_CHDB_PRIMARY_INDEX_CACHE_BYTES: int(64 * MiB, 'embedded engine: primary_index_cache_size', { unit: 'bytes' }),
  FLOWHOUSE_CHDB_INDEX_MARK_CACHE_BYTES: int(16 * MiB, 'embedded engine: index_mark_cache_size', { unit: 'bytes' }),
  FLOWHOUSE_CHDB_QUERY_CONDITION_CACHE_BYTES: int(16 * MiB, 'embedded engine: query_condition_cache_size', { unit: 'bytes' }),
  // SQL sandbox (upper bounds so a typo cannot switch a limit off)
  FLOWHOUSE_SQL_MAX_SECONDS: int(30, 'max_execution_time of a caller\'s query', { max: 3_600, unit: 'seconds' }),
  FLOWHOUSE_SQL_MAX_MEMORY_BYTES: int(GiB, 'max_memory_usage of a caller\'s query', { max: 2 ** 40, unit: 'bytes' }),
  FLOWHOUSE_SQL_MAX_RESULT_ROWS: int(100_000, 'max_result_rows of a caller\'s query', { max: 100_000_000, unit: 'rows' }),
  FLOWHOUSE_SQL_MAX_RESULT_BYTES: int(64 * MiB, 'max_result_bytes of a caller\'s query', { max: 2 ** 34, unit: 'bytes' }),
  FLOWHOUSE_SQL_SESSIONS: int(4, 'caller queries that run at once', { max: 64 }),
  FLOWHOUSE_SQL_QUEUE: int(32, 'caller queries that may wait', { max: 10_000 }),
  // Command line
  FLOWHOUSE_URL: text('http://127.0.0.1:4000', 'daemon address of flowhouse sql, mv and constraints'),
  FLOWHOUSE_API_KEY: optional('key the CLI sends'),
  SCHEMA_REGISTRY_URL: text('http://127.0.0.1:8081/apis/ccompat/v7', 'Confluent API of the schema registry flowhouse schema import reads'),
  SCHEMA_REGISTRY_USERNAME: optional('basic-auth user of that registry'),
  SCHEMA_REGISTRY_PASSWORD: optional('basic-auth password of that registry'),
})

/** The environment, read and checked: every variable with a default has its value. */
export type Environment = Static<typeof ENVIRONMENT>
/** The name of a variable flowhouse reads. */
export type Variable = keyof Environment

const SCHEMAS = ENVIRONMENT.properties as Record<Variable, TSchema>

function alternatives(values: string[]): string {
  return values.length === 1 ? values[0]! : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`
}

function parsed(name: Variable, schema: TSchema, raw: string): unknown {
  const fail = (what: string): never => {
    throw new ConfigError(`environment ${name}="${raw}": must be ${what}`, { field: name })
  }
  if (schema.type === 'integer') {
    const value = Number(raw)
    if (Value.Check(schema, value)) return value
    // Not within the schema: checkedInt builds the message from the schema's own bounds.
    return checkedInt(`environment ${name}`, raw, value, { min: schema.minimum as number, max: schema.maximum as number | undefined, unit: (schema as Doc).unit }, name)
  }
  if (schema.type === 'boolean') {
    const value = raw.trim().toLowerCase()
    if (value === 'true' || value === '1') return true
    if (value === 'false' || value === '0') return false
    return fail('true or false')
  }
  if (Array.isArray(schema.anyOf)) {
    if (Value.Check(schema, raw)) return raw
    return fail(alternatives(schema.anyOf.map((s: TSchema) => String(s.const))))
  }
  return raw
}

/**
 * The value of one variable in `env`: its schema's default when unset or empty, else the text
 * converted and checked against the schema (module doc).
 * @param env the environment to read. @default process.env
 * @throws ConfigError (context `field` = the name) with the module doc's messages.
 */
export function setting<K extends Variable>(name: K, env: NodeJS.ProcessEnv = process.env): Environment[K] {
  const schema = SCHEMAS[name]
  const raw = env[name]
  if (raw === undefined || raw === '') return schema.default as Environment[K]
  return parsed(name, schema, raw) as Environment[K]
}

/**
 * Every variable of ENVIRONMENT read from `env` and checked, the first bad one (in schema order)
 * failing the whole read.
 * @param env the environment to read. @default process.env
 * @throws ConfigError as `setting`.
 */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const out: Record<string, unknown> = {}
  for (const name of Object.keys(SCHEMAS) as Variable[]) {
    const value = setting(name, env)
    if (value !== undefined) out[name] = value
  }
  return out as Environment
}

/** The schema of one variable with its annotations (for documentation and its check). */
export function variableSchema(name: Variable): TSchema & Doc {
  return SCHEMAS[name]
}
