/**
 * Opens the embedded ClickHouse engine (chdb 3.4, ClickHouse 26.7 in-process) behind
 * @clickhouse/client, through `createChdbConnection` from `chdb/connection`.
 *
 * What chdb allows (checked with chdb 3.4.0):
 * - One data folder per process. Opening a second, different folder while one is open throws
 *   `chdb: only one active data directory per process`; after every connection on it is
 *   closed, another folder can be opened.
 * - Several connections on the same folder in one process, each with its own session:
 *   a `SET` on one does not affect the other. flowhouse opens two: read-write, and read-only.
 * - One process per folder: a second process gets `Cannot lock file <dir>/status. Another
 *   server instance in same directory is already running` (code 76).
 * - Settings passed as `clickhouse_settings` are sent as `SET k = v; <query>` and STICK to the
 *   connection's session (a `readonly: 1` would make the whole connection read-only; an
 *   `insert_deduplication_token` would apply to later inserts). So flowhouse never passes
 *   settings that way to chdb: inserts put them in the query's own `SETTINGS` clause, and the
 *   read-only connection is read-only on purpose (`SET readonly = 1` once, which cannot be undone).
 */
import { mkdirSync } from 'node:fs'
import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client'
import { ConfigError, messageOf } from '../errors.ts'
import type { ResolvedClickHouseOptions } from './options.ts'
import { quoteIdentifier } from './sql.ts'

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>

/** The two clients over one embedded engine. */
export interface EmbeddedClients {
  /** Read-write session: DDL, inserts, internal reads. */
  client: ClickHouseClient
  /** Session pinned to `readonly = 1`: user queries. */
  readonlyClient: ClickHouseClient
}

function openError(path: string, error: unknown): ConfigError {
  const text = messageOf(error)
  if (/only one active data directory/i.test(text)) {
    return new ConfigError(
      `embedded ClickHouse: this process already has another chdb data folder open (${text}); chdb holds one folder per process — close the other ClickHouse handle first or use the same FLOWHOUSE_DATA_DIR`,
      { field: 'FLOWHOUSE_DATA_DIR', path },
    )
  }
  return new ConfigError(
    `embedded ClickHouse: cannot open the chdb data folder ${path} (${text}); if another flowhouse process uses it, stop that process or set FLOWHOUSE_DATA_DIR to another folder`,
    { field: 'FLOWHOUSE_DATA_DIR', path },
  )
}

/**
 * Opens the read-write and the read-only session on `options.chdbPath`, creates the database
 * (when asked) and makes it the current one on both sessions.
 * @throws ConfigError when chdb cannot open the folder (see the notes above); ClickHouse errors
 *   from the setup statements are thrown as the client raised them.
 */
export async function openEmbedded(options: ResolvedClickHouseOptions): Promise<EmbeddedClients> {
  if (options.chdbPath !== ':memory:') mkdirSync(options.chdbPath, { recursive: true })
  // chdb/connection is CommonJS; Node's ESM loader exposes its named exports.
  const { createChdbConnection } = await import('chdb/connection')
  const open = (): ClickHouseClient => {
    let connection: ReturnType<typeof createChdbConnection>
    try {
      connection = createChdbConnection({ path: options.chdbPath })
    } catch (error) {
      throw openError(options.chdbPath, error)
    }
    // chdb types the connection against @clickhouse/client-common, the client against its own
    // copy of the same interface; the shapes are identical.
    return createClient({ connection: connection as unknown as ClientConnection, application: 'flowhouse', log: { level: ClickHouseLogLevel.OFF } })
  }
  const client = open()
  let readonlyClient: ClickHouseClient | undefined
  try {
    readonlyClient = open()
    const database = quoteIdentifier(options.database, 'database')
    if (options.createDatabase) await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` })
    await client.command({ query: `USE ${database}` })
    await readonlyClient.command({ query: `USE ${database}` })
    await readonlyClient.command({ query: 'SET readonly = 1' })
    return { client, readonlyClient }
  } catch (error) {
    await readonlyClient?.close().catch(() => undefined)
    await client.close().catch(() => undefined)
    throw error
  }
}

/** How long closeEmbedded waits for chdb's native operations to finish, in milliseconds. */
const DRAIN_TIMEOUT_MS = 30_000

/**
 * Closes both sessions and waits until chdb has really released them.
 *
 * chdb's `Session.close()` returns at once, but when a native query or insert is still running
 * on a libuv thread (an aborted request, a readiness ping that raced the shutdown) it only
 * defers the native `CloseConnection` until that operation ends. A process that exits in that
 * window runs the engine's static destructors under a live connection and dies with SIGSEGV
 * (exit 139) after a clean drain: seen on about one SIGTERM in four. `drainPending()` (chdb
 * README, "One data directory at a time") waits for the operations and the deferred closes.
 * Never throws; gives up waiting after 30 s (logged by the caller through the returned flag).
 * @returns true when every native operation and connection was released before the timeout.
 */
export async function closeEmbedded(clients: EmbeddedClients): Promise<boolean> {
  await clients.readonlyClient.close().catch(() => undefined)
  await clients.client.close().catch(() => undefined)
  const { drainPending } = await import('chdb')
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), DRAIN_TIMEOUT_MS)))
  try {
    return await Promise.race([drainPending().then(() => true), timeout])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}
