/**
 * Options of the ClickHouse client factory, resolved once into a fully defaulted object.
 * Explicit options win over environment variables, which win over defaults.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { ConfigError } from '../errors.ts'
import { checkedInt } from '../util/env.ts'
import { setting, type Variable } from '../util/environment.ts'
import { resolveSandboxOptions, type SandboxOptions } from './sandbox/options.ts'
import { redactUrl, registerSecret } from '../util/redact.ts'
import { assertIdentifier } from './sql.ts'

/** `server`: HTTP to a ClickHouse server. `embedded`: the in-process chdb engine. */
export type ClickHouseMode = 'server' | 'embedded'

/** Options as a caller passes them; everything is optional. */
export interface ClickHouseOptions {
  /**
   * Server URL, e.g. `http://127.0.0.1:8123` or `https://ch.example:8443`. Setting it selects server
   * mode. A `user:password@` in it is taken out of the URL into `username` / `password` (an explicit
   * option still wins). Env CLICKHOUSE_URL. @default unset (embedded)
   */
  url?: string
  /** Server user. Env CLICKHOUSE_USER. @default 'default' */
  username?: string
  /** Server password; never logged (registered with util/redact.ts). Env CLICKHOUSE_PASSWORD. @default '' */
  password?: string
  /**
   * TLS of an `https://` URL: PEM files of the CA that signed the server's certificate (trusted
   * instead of the system CAs), and of a client certificate and its key for servers that ask for
   * one. A client certificate needs the CA file (@clickhouse/client's `tls` requires `ca_cert`).
   * Env CLICKHOUSE_TLS_CA_FILE, CLICKHOUSE_TLS_CERT_FILE, CLICKHOUSE_TLS_KEY_FILE. @default unset (system CAs, no client certificate)
   */
  tls?: { caFile?: string; certFile?: string; keyFile?: string }
  /** Database holding flowhouse's tables and views; created when missing. Env CLICKHOUSE_DATABASE. @default 'default' */
  database?: string
  /** flowhouse data folder; the embedded engine keeps its data in `<dataDir>/chdb`. Env FLOWHOUSE_DATA_DIR. @default './.data' */
  dataDir?: string
  /** Embedded engine data folder, overriding `<dataDir>/chdb`; `':memory:'` for a throw-away engine. @default `<dataDir>/chdb` */
  chdbPath?: string
  /** HTTP request timeout in milliseconds (server mode). @default 30_000 */
  requestTimeoutMs?: number
  /** Largest number of open HTTP sockets to the server (server mode). @default 10 */
  maxOpenConnections?: number
  /**
   * `non_replicated_deduplication_window` given to every table flowhouse creates, in inserted
   * blocks: how many recent inserts a retried batch is checked against. Only where supported. @default 1_000
   */
  dedupWindowBlocks?: number
  /** Run `CREATE DATABASE IF NOT EXISTS` for `database` at start. @default true */
  createDatabase?: boolean
  /** Limits and pool of the SQL sandbox (caller queries). Env FLOWHOUSE_SQL_*. @default SANDBOX_DEFAULTS */
  sandbox?: Partial<SandboxOptions>
  /** Memory and cache sizes of the embedded engine. Env FLOWHOUSE_CHDB_*. @default ENGINE_MEMORY_DEFAULTS */
  engineMemory?: Partial<EngineMemoryOptions>
  /** Environment to read the variables from. @default process.env */
  env?: NodeJS.ProcessEnv
}

/** Options after resolution: every field present, paths absolute. */
export interface ResolvedClickHouseOptions {
  mode: ClickHouseMode
  /** Server URL without user and password (server mode only); safe to print. */
  url: string | undefined
  username: string
  password: string
  database: string
  /** Absolute embedded-engine data folder, or `':memory:'` (embedded mode only). */
  chdbPath: string
  requestTimeoutMs: number
  maxOpenConnections: number
  dedupWindowBlocks: number
  createDatabase: boolean
  sandbox: SandboxOptions
  /** Memory and cache sizes the embedded engine starts with (embedded mode only). */
  engineMemory: EngineMemoryOptions
  /** @clickhouse/client `tls` (file contents), or undefined for the system CAs and no client certificate. */
  tls: ClickHouseTls | undefined
}

/**
 * Server-level memory settings of the embedded engine, passed as `--<setting>=<value>` when it
 * starts (embedded.ts). ClickHouse sizes them for a server that owns the machine (the mark and
 * primary index caches default to 5 GiB each, the total to 90 % of RAM); a daemon shares the
 * process with Node, so they are sized for it here. Names and meaning: ClickHouse server settings
 * (clickhouse.com/docs/reference/settings/server-settings: max_server_memory_usage, mark_cache_size,
 * primary_index_cache_size, index_mark_cache_size, query_condition_cache_size). All in bytes.
 */
export interface EngineMemoryOptions {
  /** `max_server_memory_usage`: everything the engine allocates (queries, inserts, merges, caches); past it an allocation fails with MEMORY_LIMIT_EXCEEDED, which inserts retry. Env FLOWHOUSE_CHDB_MAX_MEMORY_BYTES. @default 1 GiB */
  maxMemoryBytes: number
  /** `mark_cache_size`: marks of MergeTree parts kept for reads. Env FLOWHOUSE_CHDB_MARK_CACHE_BYTES. @default 64 MiB */
  markCacheBytes: number
  /** `primary_index_cache_size`: primary indexes of MergeTree parts. Env FLOWHOUSE_CHDB_PRIMARY_INDEX_CACHE_BYTES. @default 64 MiB */
  primaryIndexCacheBytes: number
  /** `index_mark_cache_size`: marks of secondary (skipping) indexes. Env FLOWHOUSE_CHDB_INDEX_MARK_CACHE_BYTES. @default 16 MiB */
  indexMarkCacheBytes: number
  /** `query_condition_cache_size`: granule ranges a WHERE condition ruled out. Env FLOWHOUSE_CHDB_QUERY_CONDITION_CACHE_BYTES. @default 16 MiB */
  queryConditionCacheBytes: number
}

const MiB = 1024 * 1024

const ENGINE_MEMORY_ENV = {
  maxMemoryBytes: 'FLOWHOUSE_CHDB_MAX_MEMORY_BYTES',
  markCacheBytes: 'FLOWHOUSE_CHDB_MARK_CACHE_BYTES',
  primaryIndexCacheBytes: 'FLOWHOUSE_CHDB_PRIMARY_INDEX_CACHE_BYTES',
  indexMarkCacheBytes: 'FLOWHOUSE_CHDB_INDEX_MARK_CACHE_BYTES',
  queryConditionCacheBytes: 'FLOWHOUSE_CHDB_QUERY_CONDITION_CACHE_BYTES',
} as const satisfies Record<keyof EngineMemoryOptions, Variable>

/** Defaults of EngineMemoryOptions, from the variables' schema (util/environment.ts). */
export const ENGINE_MEMORY_DEFAULTS = Object.fromEntries(Object.entries(ENGINE_MEMORY_ENV).map(([key, name]) => [key, setting(name, {})])) as unknown as EngineMemoryOptions

/** The server setting each option sets. */
export const ENGINE_MEMORY_SETTINGS: Record<keyof EngineMemoryOptions, string> = {
  maxMemoryBytes: 'max_server_memory_usage',
  markCacheBytes: 'mark_cache_size',
  primaryIndexCacheBytes: 'primary_index_cache_size',
  indexMarkCacheBytes: 'index_mark_cache_size',
  queryConditionCacheBytes: 'query_condition_cache_size',
}

/**
 * Explicit values, then the FLOWHOUSE_CHDB_* variables, then ENGINE_MEMORY_DEFAULTS.
 * @throws ConfigError naming the variable when one is not a positive integer (util/environment.ts).
 */
export function resolveEngineMemory(env?: NodeJS.ProcessEnv, explicit: Partial<EngineMemoryOptions> = {}): EngineMemoryOptions {
  const out = { ...ENGINE_MEMORY_DEFAULTS }
  for (const key of Object.keys(ENGINE_MEMORY_ENV) as Array<keyof EngineMemoryOptions>) {
    const value = explicit[key]
    out[key] = value !== undefined ? positiveInt(key, value) : setting(ENGINE_MEMORY_ENV[key], env)
  }
  return out
}

/** The engine's start arguments for `options`: `--<server setting>=<bytes>` each. */
export function engineMemoryArgs(options: EngineMemoryOptions): string[] {
  return (Object.keys(ENGINE_MEMORY_SETTINGS) as Array<keyof EngineMemoryOptions>).map((key) => `--${ENGINE_MEMORY_SETTINGS[key]}=${options[key]}`)
}

/** The `tls` option of @clickhouse/client's createClient: PEM contents. */
export interface ClickHouseTls {
  ca_cert: Buffer
  cert?: Buffer
  key?: Buffer
}

/** Defaults of the options no variable sets, with units in the names (the others: util/environment.ts). */
export const CLICKHOUSE_DEFAULTS = {
  requestTimeoutMs: 30_000,
  maxOpenConnections: 10,
  dedupWindowBlocks: 1_000,
  createDatabase: true,
} as const

function positiveInt(name: string, value: number): number {
  return checkedInt(`clickhouse option ${name}`, value, value, {}, name)
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

function readPem(variable: string, file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new ConfigError(`${variable}="${file}" cannot be read (${reason}): give the path of a readable PEM file`, { field: variable })
  }
}

/** The URL split into a credential-free URL and its `user:password@` part (decoded), if any. */
function parseUrl(url: string): { url: string; username: string | undefined; password: string | undefined } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError(`CLICKHOUSE_URL "${redactUrl(url)}" is not a URL: use e.g. http://127.0.0.1:8123, or unset it for the embedded engine`, { field: 'CLICKHOUSE_URL' })
  }
  const username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username)
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password)
  registerSecret(password)
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`CLICKHOUSE_URL "${redactUrl(url)}" must use http:// or https:// (the HTTP interface, port 8123 by default)`, { field: 'CLICKHOUSE_URL' })
  }
  parsed.username = ''
  parsed.password = ''
  return { url: parsed.toString().replace(/\/$/, ''), username, password }
}

function resolveTls(options: ClickHouseOptions, env: NodeJS.ProcessEnv | undefined, url: string | undefined): ClickHouseTls | undefined {
  const caFile = nonEmpty(options.tls?.caFile) ?? setting('CLICKHOUSE_TLS_CA_FILE', env)
  const certFile = nonEmpty(options.tls?.certFile) ?? setting('CLICKHOUSE_TLS_CERT_FILE', env)
  const keyFile = nonEmpty(options.tls?.keyFile) ?? setting('CLICKHOUSE_TLS_KEY_FILE', env)
  if (caFile === undefined && certFile === undefined && keyFile === undefined) return undefined
  if (url === undefined || !url.startsWith('https:')) {
    throw new ConfigError('CLICKHOUSE_TLS_* files are set but CLICKHOUSE_URL is not an https:// URL: use https://host:8443, or unset the TLS variables', { field: 'CLICKHOUSE_URL' })
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError('CLICKHOUSE_TLS_CERT_FILE and CLICKHOUSE_TLS_KEY_FILE go together: set both for a client certificate, or neither', {
      field: certFile === undefined ? 'CLICKHOUSE_TLS_CERT_FILE' : 'CLICKHOUSE_TLS_KEY_FILE',
    })
  }
  if (caFile === undefined) {
    throw new ConfigError('a ClickHouse client certificate needs CLICKHOUSE_TLS_CA_FILE too: the PEM of the CA that signed the server certificate', { field: 'CLICKHOUSE_TLS_CA_FILE' })
  }
  const tls: ClickHouseTls = { ca_cert: readPem('CLICKHOUSE_TLS_CA_FILE', caFile) }
  if (certFile !== undefined && keyFile !== undefined) {
    tls.cert = readPem('CLICKHOUSE_TLS_CERT_FILE', certFile)
    tls.key = readPem('CLICKHOUSE_TLS_KEY_FILE', keyFile)
  }
  return tls
}

/**
 * Resolves options once: explicit values, then CLICKHOUSE_URL (its `user:password@`, then
 * CLICKHOUSE_USER / CLICKHOUSE_PASSWORD), CLICKHOUSE_DATABASE, CLICKHOUSE_TLS_*_FILE,
 * FLOWHOUSE_DATA_DIR (defaults in util/environment.ts), then CLICKHOUSE_DEFAULTS. The password is registered as a secret
 * (util/redact.ts) and the resolved `url` carries no credentials.
 * @throws ConfigError when the URL does not parse (the message shows it without its password), the
 *   database name is not an identifier, a number is not a positive integer, or the TLS files are
 *   incomplete, unreadable or set for a non-https URL; the message says which option and how to fix it.
 */
export function resolveClickHouseOptions(options: ClickHouseOptions = {}): ResolvedClickHouseOptions {
  const env = options.env
  const rawUrl = nonEmpty(options.url) ?? setting('CLICKHOUSE_URL', env)
  const fromUrl = rawUrl === undefined ? undefined : parseUrl(rawUrl)
  const url = fromUrl?.url
  const password = options.password ?? fromUrl?.password ?? setting('CLICKHOUSE_PASSWORD', env)
  registerSecret(password)
  const tls = resolveTls(options, env, url)
  const database = nonEmpty(options.database) ?? setting('CLICKHOUSE_DATABASE', env)
  assertIdentifier(database, 'database')
  const dataDir = nonEmpty(options.dataDir) ?? setting('FLOWHOUSE_DATA_DIR', env)
  const chdbPath = nonEmpty(options.chdbPath) ?? path.join(dataDir, 'chdb')
  return {
    mode: url === undefined ? 'embedded' : 'server',
    url,
    username: options.username ?? fromUrl?.username ?? setting('CLICKHOUSE_USER', env),
    password,
    database,
    chdbPath: chdbPath === ':memory:' ? chdbPath : path.resolve(chdbPath),
    requestTimeoutMs: positiveInt('requestTimeoutMs', options.requestTimeoutMs ?? CLICKHOUSE_DEFAULTS.requestTimeoutMs),
    maxOpenConnections: positiveInt('maxOpenConnections', options.maxOpenConnections ?? CLICKHOUSE_DEFAULTS.maxOpenConnections),
    dedupWindowBlocks: positiveInt('dedupWindowBlocks', options.dedupWindowBlocks ?? CLICKHOUSE_DEFAULTS.dedupWindowBlocks),
    createDatabase: options.createDatabase ?? CLICKHOUSE_DEFAULTS.createDatabase,
    sandbox: resolveSandboxOptions(env, options.sandbox),
    engineMemory: resolveEngineMemory(env, options.engineMemory),
    tls,
  }
}
