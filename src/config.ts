/**
 * Daemon configuration, resolved once at start from the environment (and CLI flags) into a
 * fully defaulted, typed object. Every variable is documented in README.md.
 */
import path from 'node:path'
import { ConfigError } from './errors.ts'

export interface BatchOptions {
  /** Flush a partition's batch once it holds this many rows. @default 100_000 */
  maxRows: number
  /** Flush once the batch's JSONEachRow text reaches this many bytes. @default 32 MiB */
  maxBytes: number
  /** Flush a non-empty batch this long after its first message, in milliseconds. @default 1_000 */
  flushIntervalMs: number
}

/** Operations: lag and readiness gauges, readiness and liveness limits. */
export interface OpsOptions {
  /** How often consumer lag and the `flowhouse_ready` gauges are refreshed, in milliseconds. Env FLOWHOUSE_METRICS_INTERVAL_MS. @default 10_000 */
  metricsIntervalMs: number
  /** /ready fails while an insert has waited on retriable ClickHouse errors longer than this, in milliseconds. Env FLOWHOUSE_READY_PAUSE_THRESHOLD_MS. @default 60_000 */
  readyPauseThresholdMs: number
  /** /health answers 503 when the event loop's p99 delay exceeds this, in milliseconds. Env FLOWHOUSE_HEALTH_MAX_EVENT_LOOP_DELAY_MS. @default 5_000 */
  healthMaxEventLoopDelayMs: number
}

export interface ViolationOptions {
  /** Seconds violations are kept in ClickHouse (table TTL). Env FLOWHOUSE_VIOLATIONS_TTL_SECONDS. @default 2_592_000 (30 days) */
  ttlSeconds: number
  /** Distinct record keys stored per constraint and second; the rest fold into one `*other*` row. Env FLOWHOUSE_VIOLATIONS_MAX_KEYS_PER_SECOND. @default 1_000 */
  maxKeysPerSecond: number
  /** How often aggregated violations are written, in ms. @default 1_000 */
  flushMs: number
}

export interface DaemonConfig {
  /** Folder holding pipeline modules. Env FLOWHOUSE_PIPELINES. @default ./pipelines */
  pipelinesDir: string
  /** HTTP port (ingest, admin API, health, metrics). Env FLOWHOUSE_PORT. @default 4000 */
  port: number
  /** HTTP listen address. Env FLOWHOUSE_HOST. @default 127.0.0.1 */
  host: string
  /** Kafka bootstrap brokers. Env KAFKA_BROKERS (comma-separated). @default ['127.0.0.1:9092'] */
  brokers: string[]
  /** Kafka client id. @default 'flowhouse' */
  clientId: string
  /** Prefix of consumer group ids: group = `<prefix>.<stream>`. Env FLOWHOUSE_GROUP_PREFIX. @default 'flowhouse' */
  groupPrefix: string
  /** Batch flush limits. Env FLOWHOUSE_BATCH_MAX_ROWS, FLOWHOUSE_BATCH_MAX_BYTES, FLOWHOUSE_BATCH_FLUSH_MS. */
  batch: BatchOptions
  /** Largest accepted POST /ingest body in bytes; larger answers 413. Env FLOWHOUSE_INGEST_MAX_BYTES. @default 16 MiB */
  ingestMaxBytes: number
  /** How often the pipelines folder is checked for added, changed and removed modules, in ms; 0 turns hot reload off. Env FLOWHOUSE_RELOAD_INTERVAL_MS. @default 1_000 */
  reloadIntervalMs: number
  /** Violation history storage. */
  violations: ViolationOptions
  /** Records per Kafka message produced by the ingest API and by stream destinations. @default 1_000 */
  recordsPerMessage: number
  /** Data folder of the embedded ClickHouse engine (when CLICKHOUSE_URL is unset). Env FLOWHOUSE_DATA_DIR. @default ./.data */
  dataDir: string
  /** Lag/readiness refresh and health limits. */
  ops: OpsOptions
  /**
   * Redis URL (`redis://host:port`) for rate limits that are one budget across every daemon
   * using it (bottleneck clustering). Env FLOWHOUSE_REDIS_URL. @default undefined: in-process buckets
   */
  redisUrl?: string
}

function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`environment ${name}="${raw}": must be a positive integer`)
  return n
}

/**
 * Resolves the daemon configuration.
 * @param env process environment (variables listed on DaemonConfig).
 * @param overrides values from CLI flags; they win over the environment.
 * @throws ConfigError when a numeric variable is not a positive integer.
 */
export function resolveConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<DaemonConfig> = {}): DaemonConfig {
  const config: DaemonConfig = {
    pipelinesDir: path.resolve(env.FLOWHOUSE_PIPELINES || 'pipelines'),
    port: intEnv(env, 'FLOWHOUSE_PORT', 4000),
    host: env.FLOWHOUSE_HOST || '127.0.0.1',
    brokers: (env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean),
    clientId: env.FLOWHOUSE_CLIENT_ID || 'flowhouse',
    groupPrefix: env.FLOWHOUSE_GROUP_PREFIX || 'flowhouse',
    batch: {
      maxRows: intEnv(env, 'FLOWHOUSE_BATCH_MAX_ROWS', 100_000),
      maxBytes: intEnv(env, 'FLOWHOUSE_BATCH_MAX_BYTES', 32 * 1024 * 1024),
      flushIntervalMs: intEnv(env, 'FLOWHOUSE_BATCH_FLUSH_MS', 1_000),
    },
    ingestMaxBytes: intEnv(env, 'FLOWHOUSE_INGEST_MAX_BYTES', 16 * 1024 * 1024),
    recordsPerMessage: intEnv(env, 'FLOWHOUSE_RECORDS_PER_MESSAGE', 1_000),
    reloadIntervalMs: env.FLOWHOUSE_RELOAD_INTERVAL_MS === '0' ? 0 : intEnv(env, 'FLOWHOUSE_RELOAD_INTERVAL_MS', 1_000),
    violations: {
      ttlSeconds: intEnv(env, 'FLOWHOUSE_VIOLATIONS_TTL_SECONDS', 30 * 86_400),
      maxKeysPerSecond: intEnv(env, 'FLOWHOUSE_VIOLATIONS_MAX_KEYS_PER_SECOND', 1_000),
      flushMs: 1_000,
    },
    dataDir: path.resolve(env.FLOWHOUSE_DATA_DIR || '.data'),
    ops: {
      metricsIntervalMs: intEnv(env, 'FLOWHOUSE_METRICS_INTERVAL_MS', 10_000),
      readyPauseThresholdMs: intEnv(env, 'FLOWHOUSE_READY_PAUSE_THRESHOLD_MS', 60_000),
      healthMaxEventLoopDelayMs: intEnv(env, 'FLOWHOUSE_HEALTH_MAX_EVENT_LOOP_DELAY_MS', 5_000),
    },
    ...(env.FLOWHOUSE_REDIS_URL ? { redisUrl: env.FLOWHOUSE_REDIS_URL } : {}),
  }
  return { ...config, ...overrides, batch: { ...config.batch, ...overrides.batch }, ops: { ...config.ops, ...overrides.ops } }
}
