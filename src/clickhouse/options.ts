/**
 * Options of the ClickHouse client factory, resolved once into a fully defaulted object.
 * Explicit options win over environment variables, which win over defaults.
 */
import path from 'node:path'
import { ConfigError } from '../errors.ts'
import { resolveSandboxOptions, type SandboxOptions } from './sandbox/options.ts'
import { assertIdentifier } from './sql.ts'

/** `server`: HTTP to a ClickHouse server. `embedded`: the in-process chdb engine. */
export type ClickHouseMode = 'server' | 'embedded'

/** Options as a caller passes them; everything is optional. */
export interface ClickHouseOptions {
  /** Server URL, e.g. `http://127.0.0.1:8123`. Setting it selects server mode. Env CLICKHOUSE_URL. @default unset (embedded) */
  url?: string
  /** Server user. Env CLICKHOUSE_USER. @default 'default' */
  username?: string
  /** Server password; never logged. Env CLICKHOUSE_PASSWORD. @default '' */
  password?: string
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
  /** Environment to read the variables from. @default process.env */
  env?: NodeJS.ProcessEnv
}

/** Options after resolution: every field present, paths absolute. */
export interface ResolvedClickHouseOptions {
  mode: ClickHouseMode
  /** Server URL (server mode only). */
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
}

/** Defaults, with units in the names. */
export const CLICKHOUSE_DEFAULTS = {
  username: 'default',
  password: '',
  database: 'default',
  dataDir: '.data',
  requestTimeoutMs: 30_000,
  maxOpenConnections: 10,
  dedupWindowBlocks: 1_000,
  createDatabase: true,
} as const

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`clickhouse option ${name}=${value}: must be a positive integer`, { field: name })
  }
  return value
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

/**
 * Resolves options once: explicit values, then CLICKHOUSE_URL / CLICKHOUSE_USER /
 * CLICKHOUSE_PASSWORD / CLICKHOUSE_DATABASE / FLOWHOUSE_DATA_DIR, then CLICKHOUSE_DEFAULTS.
 * @throws ConfigError when the URL does not parse, the database name is not an identifier, or
 *   a number is not a positive integer; the message says which option and how to fix it.
 */
export function resolveClickHouseOptions(options: ClickHouseOptions = {}): ResolvedClickHouseOptions {
  const env = options.env ?? process.env
  const url = nonEmpty(options.url) ?? nonEmpty(env.CLICKHOUSE_URL)
  if (url !== undefined) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new ConfigError(`CLICKHOUSE_URL "${url}" is not a URL: use e.g. http://127.0.0.1:8123, or unset it for the embedded engine`, { field: 'CLICKHOUSE_URL' })
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ConfigError(`CLICKHOUSE_URL "${url}" must use http:// or https:// (the HTTP interface, port 8123 by default)`, { field: 'CLICKHOUSE_URL' })
    }
  }
  const database = nonEmpty(options.database) ?? nonEmpty(env.CLICKHOUSE_DATABASE) ?? CLICKHOUSE_DEFAULTS.database
  assertIdentifier(database, 'database')
  const dataDir = nonEmpty(options.dataDir) ?? nonEmpty(env.FLOWHOUSE_DATA_DIR) ?? CLICKHOUSE_DEFAULTS.dataDir
  const chdbPath = nonEmpty(options.chdbPath) ?? path.join(dataDir, 'chdb')
  return {
    mode: url === undefined ? 'embedded' : 'server',
    url,
    username: options.username ?? nonEmpty(env.CLICKHOUSE_USER) ?? CLICKHOUSE_DEFAULTS.username,
    password: options.password ?? env.CLICKHOUSE_PASSWORD ?? CLICKHOUSE_DEFAULTS.password,
    database,
    chdbPath: chdbPath === ':memory:' ? chdbPath : path.resolve(chdbPath),
    requestTimeoutMs: positiveInt('requestTimeoutMs', options.requestTimeoutMs ?? CLICKHOUSE_DEFAULTS.requestTimeoutMs),
    maxOpenConnections: positiveInt('maxOpenConnections', options.maxOpenConnections ?? CLICKHOUSE_DEFAULTS.maxOpenConnections),
    dedupWindowBlocks: positiveInt('dedupWindowBlocks', options.dedupWindowBlocks ?? CLICKHOUSE_DEFAULTS.dedupWindowBlocks),
    createDatabase: options.createDatabase ?? CLICKHOUSE_DEFAULTS.createDatabase,
    sandbox: resolveSandboxOptions(env, options.sandbox),
  }
}
