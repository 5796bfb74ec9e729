/**
 * Daemon configuration, resolved once at start from the environment (and CLI flags) into a
 * fully defaulted, typed object. Every variable is documented in README.md.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { ConfigError, messageOf } from './errors.ts'
import { resolveClickHouseOptions, type ResolvedClickHouseOptions } from './clickhouse/options.ts'
import { resolveKafkaSecurity, type BatchOptions, type DecodeOptions, type GroupOptions, type KafkaSecurity } from './kafka/options.ts'
import { readEnvironment, type Environment } from './util/environment.ts'
import { resolveViewsOptions, type ViewsOptions } from './views/options.ts'

/** Dead-letter entries. */
export interface DlqOptions {
  /** An entry over the DLQ topic's max.message.bytes keeps this many leading bytes of the raw message or record, with its size and SHA-256. Env FLOWHOUSE_DLQ_RAW_KEEP_BYTES. @default 64 KiB */
  rawKeepBytes: number
}

/** Operations: lag and readiness gauges, readiness and liveness limits. */
export interface OpsOptions {
  /** How often consumer lag and the `flowhouse_ready` gauges are refreshed, in milliseconds. Env FLOWHOUSE_METRICS_INTERVAL_MS. @default 10_000 */
  metricsIntervalMs: number
  /** /ready fails while an insert has waited on retriable ClickHouse errors longer than this, in milliseconds. Env FLOWHOUSE_READY_PAUSE_THRESHOLD_MS. @default 60_000 */
  readyPauseThresholdMs: number
  /** /health answers 503 when the event loop's p99 delay exceeds this, in milliseconds. Env FLOWHOUSE_HEALTH_MAX_EVENT_LOOP_DELAY_MS. @default 5_000 */
  healthMaxEventLoopDelayMs: number
  /** A partition with lag and no commit for this long is stalled: /ready fails and `flowhouse_partition_stalled` is 1, in seconds. Env FLOWHOUSE_STALL_SECONDS. @default 60 */
  stallSeconds: number
}

export interface ViolationOptions {
  /** Seconds violations are kept in ClickHouse (table TTL). Env FLOWHOUSE_VIOLATIONS_TTL_SECONDS. @default 2_592_000 (30 days) */
  ttlSeconds: number
  /** Distinct record keys stored per constraint and second; the rest fold into one `*other*` row. Env FLOWHOUSE_VIOLATIONS_MAX_KEYS_PER_SECOND. @default 1_000 */
  maxKeysPerSecond: number
  /** How often aggregated violations are written, in ms. @default 1_000 */
  flushMs: number
}

/** API key scopes: `ingest` (POST /ingest), `read` (GET routes, queries), `admin` (everything; includes the other two). */
export const SCOPES = ['ingest', 'read', 'admin'] as const
export type Scope = (typeof SCOPES)[number]

/** One configured API key: its scope and the SHA-256 digest of the key (only hashes are kept). */
export interface ApiKeyEntry {
  scope: Scope
  /** SHA-256 of the key's UTF-8 bytes, 32 bytes. */
  sha256: Buffer
}

/** HTTP access control (src/http/auth.ts). */
export interface AccessOptions {
  /** Keys from FLOWHOUSE_API_KEYS (comma-separated `<scope>:<sha256 hex>`) and FLOWHOUSE_API_KEYS_FILE (one per line). Empty: no keys, loopback only. @default [] */
  apiKeys: ApiKeyEntry[]
  /** `none`: /metrics is open; `read`: /metrics needs a read (or admin) key. Env FLOWHOUSE_METRICS_AUTH. @default 'none' */
  metricsAuth: 'none' | 'read'
  /** Host names (no port) accepted in the Host header besides loopback names while no keys are configured. Env FLOWHOUSE_ALLOWED_HOSTS (comma-separated). @default [] */
  allowedHosts: string[]
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
  /** TLS and SASL of every Kafka connection. Env KAFKA_SSL*, KAFKA_SASL_* (src/kafka/options.ts). @default PLAINTEXT */
  kafkaSecurity: KafkaSecurity
  /** Prefix of consumer group ids: group = `<prefix>.<stream>`. Env FLOWHOUSE_GROUP_PREFIX. @default 'flowhouse' */
  groupPrefix: string
  /** Batch flush limits, the in-flight window and the insert backoff. Env FLOWHOUSE_BATCH_MAX_ROWS, FLOWHOUSE_BATCH_MAX_BYTES, FLOWHOUSE_BATCH_FLUSH_MS, FLOWHOUSE_INFLIGHT_MESSAGES, FLOWHOUSE_INFLIGHT_BYTES, FLOWHOUSE_INSERT_RETRY_BASE_MS, FLOWHOUSE_INSERT_RETRY_MAX_MS. */
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
  /**
   * The ClickHouse connection: server or embedded engine in `dataDir`, credentials, TLS (files
   * read at resolution), SQL sandbox limits and the embedded engine's memory. Env CLICKHOUSE_*,
   * FLOWHOUSE_SQL_*, FLOWHOUSE_CHDB_* (src/clickhouse/options.ts).
   */
  clickhouse: ResolvedClickHouseOptions
  /** Lag/readiness refresh and health limits. */
  ops: OpsOptions
  /** API keys, the /metrics rule and the Host allowlist. */
  access: AccessOptions
  /** Depth and size bounds on consumed messages, and the worker task timeout. */
  decode: DecodeOptions
  /** Dead-letter entry truncation. */
  dlq: DlqOptions
  /** Consumer group session and heartbeat. */
  group: GroupOptions
  /** The materialized-view manager: backfill batches and pause, default cluster, status interval. Env FLOWHOUSE_MV_* (src/views/options.ts). */
  views: ViewsOptions
  /**
   * How long SIGTERM waits for the consumers to flush, commit and leave their groups, in
   * milliseconds. Past it (a task that never settles) the worker threads are stopped so the
   * consumers can leave; what was not committed is consumed again. Env FLOWHOUSE_DRAIN_TIMEOUT_MS. @default 20_000
   */
  drainTimeoutMs: number
  /**
   * Redis URL (`redis://host:port`) for rate limits that are one budget across every daemon
   * using it (bottleneck clustering). Env FLOWHOUSE_REDIS_URL. @default undefined: in-process buckets
   */
  redisUrl?: string
}

const KEY_HELP = 'create one with `flowhouse keys create --scope <ingest|read|admin>`'

/**
 * Parses API key entries `<scope>:<sha256 hex of the key>`; blank entries and `#` comments are skipped.
 * An entry's text is never echoed (it may be a key pasted by mistake).
 * @param source where the entries come from, for messages (e.g. `FLOWHOUSE_API_KEYS`).
 * @throws ConfigError naming the source and the entry's position when an entry is malformed.
 */
export function parseApiKeys(entries: string[], source: string): ApiKeyEntry[] {
  const keys: ApiKeyEntry[] = []
  entries.forEach((raw, i) => {
    const entry = raw.trim()
    if (entry === '' || entry.startsWith('#')) return
    const at = entry.indexOf(':')
    const scope = entry.slice(0, at)
    const hex = entry.slice(at + 1).toLowerCase()
    if (at < 0 || !(SCOPES as readonly string[]).includes(scope) || !/^[0-9a-f]{64}$/.test(hex)) {
      throw new ConfigError(`${source} entry ${i + 1} is not <scope>:<sha256 hex of the key> with scope ${SCOPES.join(', ')} (only the hash is configured, never the key); ${KEY_HELP}`)
    }
    keys.push({ scope: scope as Scope, sha256: Buffer.from(hex, 'hex') })
  })
  return keys
}

function accessOptions(e: Environment): AccessOptions {
  const apiKeys = parseApiKeys((e.FLOWHOUSE_API_KEYS ?? '').split(','), 'FLOWHOUSE_API_KEYS')
  const file = e.FLOWHOUSE_API_KEYS_FILE
  if (file) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      throw new ConfigError(`FLOWHOUSE_API_KEYS_FILE="${file}" cannot be read: ${messageOf(error)}`)
    }
    apiKeys.push(...parseApiKeys(text.split(/\r?\n/), `FLOWHOUSE_API_KEYS_FILE (${file})`))
  }
  const metricsAuth = e.FLOWHOUSE_METRICS_AUTH
  const allowedHosts = (e.FLOWHOUSE_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean)
  return { apiKeys, metricsAuth, allowedHosts }
}

/**
 * Resolves the daemon configuration: every variable of util/environment.ts ENVIRONMENT is read
 * and checked once (readEnvironment), then mapped onto DaemonConfig.
 * @param env process environment (variables listed on DaemonConfig). @default process.env
 * @param overrides values from CLI flags; they win over the environment.
 * @throws ConfigError when any variable of ENVIRONMENT is out of its schema (an integer out of
 *   its bounds, e.g. FLOWHOUSE_MAX_DEPTH over 1000, a flag not true/false), an API key entry is
 *   malformed, FLOWHOUSE_API_KEYS_FILE cannot be read, FLOWHOUSE_METRICS_AUTH is not none|read,
 *   the Kafka TLS / SASL variables are incomplete or name unreadable files (src/kafka/options.ts),
 *   the heartbeat interval is not below the session timeout, a FLOWHOUSE_MV_* variable is not
 *   an integer in range (src/views/options.ts), or the ClickHouse URL, database or TLS files are
 *   wrong (src/clickhouse/options.ts resolveClickHouseOptions).
 */
export function resolveConfig(env?: NodeJS.ProcessEnv, overrides: Partial<DaemonConfig> = {}): DaemonConfig {
  const e = readEnvironment(env)
  const config: Omit<DaemonConfig, 'clickhouse'> = {
    pipelinesDir: path.resolve(e.FLOWHOUSE_PIPELINES),
    port: e.FLOWHOUSE_PORT,
    host: e.FLOWHOUSE_HOST,
    brokers: e.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean),
    clientId: e.FLOWHOUSE_CLIENT_ID,
    kafkaSecurity: resolveKafkaSecurity(env),
    groupPrefix: e.FLOWHOUSE_GROUP_PREFIX,
    batch: {
      maxRows: e.FLOWHOUSE_BATCH_MAX_ROWS,
      maxBytes: e.FLOWHOUSE_BATCH_MAX_BYTES,
      flushIntervalMs: e.FLOWHOUSE_BATCH_FLUSH_MS,
      inflightMessages: e.FLOWHOUSE_INFLIGHT_MESSAGES,
      inflightBytes: e.FLOWHOUSE_INFLIGHT_BYTES,
      insertRetryBaseMs: e.FLOWHOUSE_INSERT_RETRY_BASE_MS,
      insertRetryMaxMs: e.FLOWHOUSE_INSERT_RETRY_MAX_MS,
    },
    ingestMaxBytes: e.FLOWHOUSE_INGEST_MAX_BYTES,
    recordsPerMessage: e.FLOWHOUSE_RECORDS_PER_MESSAGE,
    reloadIntervalMs: e.FLOWHOUSE_RELOAD_INTERVAL_MS,
    violations: {
      ttlSeconds: e.FLOWHOUSE_VIOLATIONS_TTL_SECONDS,
      maxKeysPerSecond: e.FLOWHOUSE_VIOLATIONS_MAX_KEYS_PER_SECOND,
      flushMs: 1_000,
    },
    dataDir: path.resolve(e.FLOWHOUSE_DATA_DIR),
    ops: {
      metricsIntervalMs: e.FLOWHOUSE_METRICS_INTERVAL_MS,
      readyPauseThresholdMs: e.FLOWHOUSE_READY_PAUSE_THRESHOLD_MS,
      healthMaxEventLoopDelayMs: e.FLOWHOUSE_HEALTH_MAX_EVENT_LOOP_DELAY_MS,
      stallSeconds: e.FLOWHOUSE_STALL_SECONDS,
    },
    access: accessOptions(e),
    decode: {
      maxDepth: e.FLOWHOUSE_MAX_DEPTH,
      maxRecordBytes: e.FLOWHOUSE_MAX_RECORD_BYTES,
      maxMessageBytes: e.FLOWHOUSE_MAX_MESSAGE_BYTES,
      taskTimeoutMs: e.FLOWHOUSE_TASK_TIMEOUT_MS,
    },
    dlq: { rawKeepBytes: e.FLOWHOUSE_DLQ_RAW_KEEP_BYTES },
    drainTimeoutMs: e.FLOWHOUSE_DRAIN_TIMEOUT_MS,
    group: {
      sessionTimeoutMs: e.FLOWHOUSE_KAFKA_SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: e.FLOWHOUSE_KAFKA_HEARTBEAT_INTERVAL_MS,
      fetchMaxBytesPerPartition: e.FLOWHOUSE_KAFKA_FETCH_MAX_BYTES_PER_PARTITION,
      fetchMaxBytes: e.FLOWHOUSE_KAFKA_FETCH_MAX_BYTES,
    },
    views: resolveViewsOptions(env),
    ...(e.FLOWHOUSE_REDIS_URL ? { redisUrl: e.FLOWHOUSE_REDIS_URL } : {}),
  }
  const merged = {
    ...config,
    ...overrides,
    batch: { ...config.batch, ...overrides.batch },
    ops: { ...config.ops, ...overrides.ops },
    decode: { ...config.decode, ...overrides.decode },
    dlq: { ...config.dlq, ...overrides.dlq },
    group: { ...config.group, ...overrides.group },
    views: { ...config.views, ...overrides.views },
  }
  const resolved: DaemonConfig = { ...merged, clickhouse: overrides.clickhouse ?? resolveClickHouseOptions({ env, dataDir: merged.dataDir }) }
  const { sessionTimeoutMs, heartbeatIntervalMs } = resolved.group
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new ConfigError(
      `FLOWHOUSE_KAFKA_HEARTBEAT_INTERVAL_MS (${heartbeatIntervalMs}) must be lower than FLOWHOUSE_KAFKA_SESSION_TIMEOUT_MS (${sessionTimeoutMs}); set it to about a third of the session timeout (${Math.floor(sessionTimeoutMs / 3)})`,
      { field: 'FLOWHOUSE_KAFKA_HEARTBEAT_INTERVAL_MS' },
    )
  }
  return resolved
}
