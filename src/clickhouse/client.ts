/**
 * The ClickHouse handle every stage uses: one @clickhouse/client code path, two transports
 * (DESIGN.md "One ClickHouse code path, two transports"). With CLICKHOUSE_URL set it speaks
 * HTTP to a server; otherwise it runs the embedded chdb engine with data under
 * `<FLOWHOUSE_DATA_DIR>/chdb`.
 */
import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client'
import { ClickHouseError, FlowhouseError, isProgrammerError } from '../errors.ts'
import { detectCapabilities } from './capabilities.ts'
import { drainEmbedded, openEmbedded, type RawInsert } from './embedded.ts'
import { toClickHouseError } from './errors.ts'
import { resolveClickHouseOptions, type ClickHouseMode, type ClickHouseOptions, type ResolvedClickHouseOptions } from './options.ts'
import { defaultConnectionParser, sessionParser } from './sandbox/engines.ts'
import { Sandbox, serverRequestSettings, type ParseEngine } from './sandbox/sandbox.ts'
import { quoteIdentifier } from './sql.ts'
import { stageLog } from '../util/log.ts'
import type { Capabilities, PingResult } from './types.ts'

const log = stageLog('clickhouse')

/** A connected ClickHouse (server or embedded) with its version and capabilities. */
export class ClickHouse {
  /** `server` (HTTP) or `embedded` (chdb in this process). */
  readonly mode: ClickHouseMode
  /** The read-write @clickhouse/client. Prefer the helpers (insertBatch, queryRows ...): on chdb, `clickhouse_settings` stick to the session. */
  readonly client: ClickHouseClient
  /** The first of the sandbox's read-only clients: a session pinned to the limits and `readonly = 1` (embedded), or `client` (server). Caller queries go through `sandbox`. */
  readonly readonlyClient: ClickHouseClient
  /** The SQL sandbox every caller-supplied query runs through (src/clickhouse/sandbox). */
  readonly sandbox: Sandbox
  /** Database of flowhouse's tables and views. */
  readonly database: string
  /** `SELECT version()`, e.g. `18.16.1` or `26.7.2.1`. */
  readonly serverVersion: string
  readonly capabilities: Capabilities
  readonly options: ResolvedClickHouseOptions
  /** Embedded only: an insert of a body as bytes on the read-write session (embedded.ts RawInsert); insertBatch uses it. */
  readonly rawInsert: RawInsert | undefined
  #closing: Promise<void> | undefined
  readonly #release: () => Promise<void>
  readonly #others: ClickHouseClient[]

  constructor(init: {
    options: ResolvedClickHouseOptions
    client: ClickHouseClient
    readonlyClient: ClickHouseClient
    /** @default a sandbox over `readonlyClient` sending the limits with each request, parsing on chDB's default connection */
    sandbox?: Sandbox
    /** Closes what else the handle holds (embedded: the engine's configuration holder). */
    release?: () => Promise<void>
    /** Clients to close besides client and readonlyClient. */
    others?: ClickHouseClient[]
    serverVersion: string
    capabilities: Capabilities
    /** Embedded: the read-write session's raw insert. */
    rawInsert?: RawInsert
  }) {
    this.mode = init.options.mode
    this.options = init.options
    this.database = init.options.database
    this.client = init.client
    this.readonlyClient = init.readonlyClient
    this.sandbox =
      init.sandbox ??
      new Sandbox({ database: init.options.database, options: init.options.sandbox, parser: defaultConnectionParser(), readers: [init.readonlyClient], requestSettings: serverRequestSettings(init.options.sandbox) })
    this.#release = init.release ?? (async () => undefined)
    this.#others = init.others ?? []
    this.serverVersion = init.serverVersion
    this.capabilities = init.capabilities
    this.rawInsert = init.rawInsert
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.#closing !== undefined
  }

  /**
   * Checks the engine answers a `SELECT 1` (over HTTP this also checks the credentials and the
   * database, which the bare `/ping` endpoint does not).
   * Never throws: a failure, or a closed handle, is returned as `{ ok: false, error }`.
   */
  async ping(): Promise<PingResult> {
    if (this.closed) return { ok: false, error: new ClickHouseError('ClickHouse handle is closed', { retriable: false }) }
    try {
      const result = await this.client.ping({ select: true })
      return result.success ? { ok: true } : { ok: false, error: toClickHouseError(result.error) }
    } catch (error) {
      return { ok: false, error: toClickHouseError(error) }
    }
  }

  /**
   * Closes the clients. Embedded, it also waits until chdb has released its native connections
   * (see drainEmbedded), so the process can exit right after without crashing in chdb's teardown.
   * Idempotent; never throws.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.sandbox.close()
      const clients = [...new Set([...this.#others, this.readonlyClient, this.client])]
      for (const c of clients) await c.close().catch(() => undefined)
      await this.#release().catch(() => undefined)
      if (this.mode === 'embedded' && !(await drainEmbedded())) {
        log.warn('embedded ClickHouse: native operations still running after 30 s; exiting now may crash the process')
      }
    })()
    return this.#closing
  }
}

function httpClient(options: ResolvedClickHouseOptions, database: string | undefined): ClickHouseClient {
  return createClient({
    url: options.url,
    username: options.username,
    password: options.password,
    ...(database ? { database } : {}),
    request_timeout: options.requestTimeoutMs,
    max_open_connections: options.maxOpenConnections,
    application: 'flowhouse',
    log: { level: ClickHouseLogLevel.OFF },
    ...(options.tls ? { tls: options.tls } : {}),
  })
}

async function openServer(options: ResolvedClickHouseOptions): Promise<ClickHouseClient> {
  if (options.createDatabase && options.database !== 'default') {
    // The HTTP `database` parameter must name an existing database, so create it first.
    const bootstrap = httpClient(options, undefined)
    try {
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(options.database, 'database')}` })
    } finally {
      await bootstrap.close()
    }
  }
  return httpClient(options, options.database)
}

/**
 * Connects to ClickHouse: HTTP when `url` / CLICKHOUSE_URL is set, else the embedded chdb engine
 * (see options.ts for every option, its variable and default). Creates the database when
 * missing, reads `version()` and detects Capabilities.
 * @throws ConfigError for bad options or an embedded data folder chdb cannot open;
 *   ClickHouseError (retriable for connection failures) when the engine cannot be reached.
 */
export async function createClickHouse(options: ClickHouseOptions = {}): Promise<ClickHouse> {
  return connectClickHouse(resolveClickHouseOptions(options))
}

/**
 * Connects with options already resolved (DaemonConfig.clickhouse, from resolveConfig); as
 * createClickHouse otherwise.
 * @throws as createClickHouse.
 */
export async function connectClickHouse(resolved: ResolvedClickHouseOptions): Promise<ClickHouse> {
  let clients: { client: ClickHouseClient; rawInsert?: RawInsert; readers: ClickHouseClient[]; openReader?: () => Promise<ClickHouseClient>; parser: ParseEngine; release: () => Promise<void> } | undefined
  try {
    if (resolved.mode === 'embedded') {
      const embedded = await openEmbedded(resolved)
      clients = { ...embedded, parser: sessionParser(embedded.parser) }
    } else {
      const client = await openServer(resolved)
      clients = { client, readers: Array.from({ length: resolved.sandbox.sessions }, () => client), parser: defaultConnectionParser(), release: async () => undefined }
    }
    const { serverVersion, capabilities } = await detectCapabilities(clients.client)
    const sandbox = new Sandbox({
      database: resolved.database,
      options: resolved.sandbox,
      parser: clients.parser,
      readers: clients.readers,
      ...(clients.openReader ? { openReader: clients.openReader } : {}),
      ...(resolved.mode === 'server' ? { requestSettings: serverRequestSettings(resolved.sandbox) } : {}),
    })
    return new ClickHouse({ options: resolved, client: clients.client, ...(clients.rawInsert ? { rawInsert: clients.rawInsert } : {}), readonlyClient: clients.readers[0] as ClickHouseClient, others: clients.readers, sandbox, release: clients.release, serverVersion, capabilities })
  } catch (error) {
    if (clients) {
      for (const c of new Set(clients.readers)) await c.close().catch(() => undefined)
      await clients.parser.close().catch(() => undefined)
      await clients.client.close().catch(() => undefined)
      await clients.release()
    }
    if (error instanceof FlowhouseError || isProgrammerError(error)) throw error
    throw toClickHouseError(error, { database: resolved.database })
  }
}
