/**
 * Opens the embedded ClickHouse engine (chdb 3.4, ClickHouse 26.7 in-process) behind
 * @clickhouse/client, through `createChdbConnection` from `chdb/connection`.
 *
 * What chdb allows (checked with chdb 3.4.0):
 * - One data folder per process. Opening a second, different folder while one is open throws
 *   `chdb: only one active data directory per process`; after every connection on it is
 *   closed, another folder can be opened.
 * - Several connections on the same folder in one process, each with its own session:
 *   a `SET` on one does not affect the other. flowhouse opens one read-write session and
 *   FLOWHOUSE_SQL_SESSIONS + 1 read-only ones (the sandbox's readers and its parser).
 * - One process per folder: a second process gets `Cannot lock file <dir>/status. Another
 *   server instance in same directory is already running` (code 76).
 * - Settings passed as `clickhouse_settings` are sent as `SET k = v; <query>` and STICK to the
 *   connection's session (a `readonly: 1` would make the whole connection read-only; an
 *   `insert_deduplication_token` would apply to later inserts). So flowhouse never passes
 *   settings that way to chdb: inserts put them in the query's own `SETTINGS` clause, and the
 *   read-only connection is read-only on purpose (`SET readonly = 1` once, which cannot be undone).
 * - A SELECT stopped by `max_result_rows` (`result_overflow_mode = 'throw'`) leaves the rows
 *   produced before the stop (65,410 of `SELECT number FROM system.numbers LIMIT 1e7` under a
 *   100,000-row limit) in the session: the NEXT query on that session answers them instead of
 *   its own result. So the sandbox replaces a reader session after any failed query
 *   (`openReader`) instead of giving it another caller's query.
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client'
import { ConfigError, messageOf } from '../errors.ts'
import { engineMemoryArgs, type ResolvedClickHouseOptions } from './options.ts'
import { limitSettings } from './sandbox/options.ts'
import { quoteIdentifier, settingsSql } from './sql.ts'

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>

/** chdb's own query call on one session (its `.chdb` extension): text in the format asked, no FORMAT appended. */
export interface RawSession {
  text(sql: string): Promise<string>
  close(): Promise<void>
}

/** One INSERT of a body already in `format`, on the read-write session (chdb's raw passthrough). */
export interface RawInsertParams {
  /** `<database>.<table>`, each part [A-Za-z0-9_] (chdb checks). */
  table: string
  /** The body; handed to the engine without a copy or a decode to text. */
  values: Buffer
  format: 'JSONEachRow'
  /** Put in the INSERT's own SETTINGS clause (they do not stick to the session). */
  settings: Record<string, string | number>
  /** Stops the wait (the engine may still finish the write). */
  signal?: AbortSignal
}

/** The raw insert of the read-write session: rejects with chdb's error (`Code: <n>. DB::Exception: ...` in its message). */
export type RawInsert = (params: RawInsertParams) => Promise<unknown>

/** The clients over one embedded engine. */
export interface EmbeddedClients {
  /** Read-write session: DDL, inserts, internal reads. */
  client: ClickHouseClient
  /** Inserts a body on the same session as `client`, without going through text (see RawInsert). */
  rawInsert: RawInsert
  /** Sessions pinned to the sandbox's limits and then `readonly = 1`: caller queries, one at a time each. */
  readers: ClickHouseClient[]
  /**
   * Opens one more session like `readers` (the sandbox's replacement for a session whose query
   * failed; the caller closes it). Throws as the client raised the setup statements' errors.
   */
  openReader(): Promise<ClickHouseClient>
  /** Read-only session the sandbox parses on (`EXPLAIN AST`), so parsing never waits behind a slow query. */
  parser: RawSession
  /** Closes the engine's configuration holder (see confineEngine). Idempotent. */
  release(): Promise<void>
}

/**
 * Starts the engine with an empty `user_files_path` of its own and the memory and cache sizes of
 * `engineMemory` (options.ts EngineMemoryOptions), before any other session opens (both are
 * server configuration, read when the engine starts). chDB runs as clickhouse-local,
 * which does not confine absolute paths to it, so the sandbox's allowlist (no file(), no INTO
 * OUTFILE) is the wall and this one only stops relative paths from reaching the data folder.
 */
async function confineEngine(chdbPath: string, engineMemory: ResolvedClickHouseOptions['engineMemory']): Promise<() => Promise<void>> {
  if (chdbPath === ':memory:') return async () => undefined
  const empty = path.join(chdbPath, 'flowhouse_no_user_files')
  mkdirSync(empty, { recursive: true })
  const { Session } = (await import('chdb')) as unknown as { Session: new (path: string, opts: { connectionArgs: string[] }) => { close(): unknown } }
  const session = new Session(chdbPath, { connectionArgs: [`--user_files_path=${empty}`, ...engineMemoryArgs(engineMemory)] })
  let closed = false
  return async () => {
    if (closed) return
    closed = true
    await Promise.resolve(session.close()).catch(() => undefined)
  }
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
 * Opens on `options.chdbPath` the read-write session, FLOWHOUSE_SQL_SESSIONS read-only reader
 * sessions and the read-only parse session (limits set before `readonly = 1`), creates the
 * database (when asked) and makes it the current one on every session.
 * @returns the clients and `release`; the caller closes them (ClickHouse.close: sandbox, clients, release, drainEmbedded).
 * @throws ConfigError when chdb cannot open the folder (see the notes above); ClickHouse errors
 *   from the setup statements are thrown as the client raised them.
 */
export async function openEmbedded(options: ResolvedClickHouseOptions): Promise<EmbeddedClients> {
  if (options.chdbPath !== ':memory:') mkdirSync(options.chdbPath, { recursive: true })
  let release: () => Promise<void>
  try {
    release = await confineEngine(options.chdbPath, options.engineMemory)
  } catch (error) {
    throw openError(options.chdbPath, error)
  }
  // chdb/connection is CommonJS; Node's ESM loader exposes its named exports.
  const { createChdbConnection } = await import('chdb/connection')
  const connect = (): ReturnType<typeof createChdbConnection> => {
    try {
      return createChdbConnection({ path: options.chdbPath })
    } catch (error) {
      throw openError(options.chdbPath, error)
    }
  }
  // chdb types the connection against @clickhouse/client-common, the client against its own
  // copy of the same interface; the shapes are identical.
  const over = (connection: ReturnType<typeof createChdbConnection>): ClickHouseClient => createClient({ connection: connection as unknown as ClientConnection, application: 'flowhouse', log: { level: ClickHouseLogLevel.OFF } })
  const open = (): ClickHouseClient => over(connect())
  const opened: ClickHouseClient[] = []
  try {
    const rw = connect()
    const client = over(rw)
    // clickhouse-js's exec hands chdb a stream, which chdb's connection reads into one string and
    // appends to the SQL text; the raw insert gives the engine the bytes as they are.
    const rawInsert: RawInsert = (params) => rw.chdb.rawInsert(params)
    opened.push(client)
    const database = quoteIdentifier(options.database, 'database')
    if (options.createDatabase) await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` })
    await client.command({ query: `USE ${database}` })
    // The limits first: once readonly = 1, no setting can change on the session.
    const pin = async (session: ClickHouseClient): Promise<ClickHouseClient> => {
      await session.command({ query: `USE ${database}` })
      await session.command({ query: `SET ${settingsSql(limitSettings(options.sandbox))}` })
      await session.command({ query: 'SET readonly = 1' })
      return session
    }
    const readers: ClickHouseClient[] = []
    for (let i = 0; i < options.sandbox.sessions; i++) {
      const session = open()
      opened.push(session)
      readers.push(await pin(session))
    }
    const openReader = async (): Promise<ClickHouseClient> => {
      const session = open()
      return pin(session).catch(async (error: unknown) => {
        await session.close().catch(() => undefined)
        throw error
      })
    }
    const connection = connect()
    const parser: RawSession = {
      text: async (sql) => (await connection.chdb.queryAsync(sql, { format: 'TabSeparatedRaw' })).text(),
      close: () => connection.close(),
    }
    opened.push(parser as unknown as ClickHouseClient)
    await parser.text(`USE ${database}`)
    await parser.text(`SET ${settingsSql(limitSettings(options.sandbox))}`)
    await parser.text('SET readonly = 1')
    return { client, rawInsert, readers, openReader, parser, release }
  } catch (error) {
    for (const c of opened) await c.close().catch(() => undefined)
    await release()
    throw error
  }
}

/** How long drainEmbedded waits for chdb's native operations to finish, in milliseconds. */
const DRAIN_TIMEOUT_MS = 30_000

/**
 * Waits until chdb has really released the sessions the caller closed.
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
export async function drainEmbedded(): Promise<boolean> {
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
