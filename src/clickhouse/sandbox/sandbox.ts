/**
 * The SQL sandbox every caller-supplied query goes through (`/api/sql`, the view query helper,
 * the SELECT of API-created views): ClickHouse's own parse of the query (`EXPLAIN AST` on the
 * in-process chDB engine, which also serves server mode, whose 18.16 has no EXPLAIN), judged
 * against the allowlists of policy.ts, then run on a read-only session with limits it cannot
 * raise (options.ts), at most `sessions` at a time, `queue` more waiting, 503 beyond.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import Bottleneck from 'bottleneck'
import { ClickHouseError, FlowhouseError, QueryError, messageOf } from '../../errors.ts'
import { stageLog } from '../../util/log.ts'
import { toClickHouseError } from '../errors.ts'
import { AstReadError, readExplainAst, type AstNode } from './ast.ts'
import { Refusal, judge } from './judge.ts'
import { limitSettings, type SandboxOptions } from './options.ts'
import { FunctionAllowlist, type FunctionRow } from './policy.ts'

const log = stageLog('sandbox')

/** Runs a statement on the in-process engine and returns its TabSeparatedRaw text. */
export interface ParseEngine {
  text(sql: string, params?: Record<string, unknown>): Promise<string>
  close(): Promise<void>
}

/** A statement ready to run: its text and server-side parameters. */
export interface Prepared {
  query: string
  query_params?: Record<string, unknown>
}

export interface SandboxInit {
  database: string
  options: SandboxOptions
  parser: ParseEngine
  /** Read-only clients, one per concurrent query (embedded: sessions pinned to the limits and readonly). */
  readers: ClickHouseClient[]
  /** Settings sent with every query (server mode: the limits and `readonly = 1`); none for pinned sessions. */
  requestSettings?: Record<string, string>
  /**
   * Opens a reader like those of `readers` (embedded). When given, a reader whose query failed is
   * closed and replaced by a new one before it serves another query: chDB keeps the rows a
   * stopped SELECT produced in the session and answers them to the next query (embedded.ts).
   * The sandbox closes the readers it opened. Not given in server mode (each query is a request).
   */
  openReader?: () => Promise<ClickHouseClient>
}

/** ClickHouse error codes of the sandbox's limits → the variable that sets the limit. */
const LIMIT_ERRORS: Record<number, string> = {
  159: 'FLOWHOUSE_SQL_MAX_SECONDS', // TIMEOUT_EXCEEDED
  241: 'FLOWHOUSE_SQL_MAX_MEMORY_BYTES', // MEMORY_LIMIT_EXCEEDED
  396: 'FLOWHOUSE_SQL_MAX_RESULT_ROWS / FLOWHOUSE_SQL_MAX_RESULT_BYTES', // TOO_MANY_ROWS_OR_BYTES
  158: 'FLOWHOUSE_SQL_MAX_RESULT_ROWS', // TOO_MANY_ROWS
  307: 'FLOWHOUSE_SQL_MAX_RESULT_BYTES', // TOO_MANY_BYTES
}

/**
 * Judges and runs caller-supplied queries (module doc). One per ClickHouse handle, built by
 * createClickHouse, which closes it first (then its readers, which belong to the handle).
 */
export class Sandbox {
  readonly options: SandboxOptions
  readonly #init: SandboxInit
  readonly #free: ClickHouseClient[]
  readonly #limiter: Bottleneck
  /** Readers this sandbox opened in place of failed ones (it closes them; the handle closes `init.readers`). */
  readonly #opened = new Set<ClickHouseClient>()
  #functions: Promise<FunctionAllowlist> | undefined

  constructor(init: SandboxInit) {
    this.#init = init
    this.options = init.options
    this.#free = [...init.readers]
    this.#limiter = new Bottleneck({ maxConcurrent: init.readers.length, highWater: init.options.queue, strategy: Bottleneck.strategy.OVERFLOW })
  }

  /** The function allowlist, read once from the in-process engine's `system.functions`. */
  functions(): Promise<FunctionAllowlist> {
    this.#functions ??= this.#init.parser
      .text('SELECT name, is_aggregate, case_insensitive, alias_to, toString(categories) FROM system.functions')
      .then((text) => {
        const rows: FunctionRow[] = text
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [name, is_aggregate, case_insensitive, alias_to, categories] = line.split('\t') as [string, string, string, string, string]
            return { name, is_aggregate, case_insensitive, alias_to, categories }
          })
        return new FunctionAllowlist(rows)
      })
    this.#functions.catch(() => (this.#functions = undefined))
    return this.#functions
  }

  /**
   * ClickHouse's parse of one statement.
   * @throws QueryError when ClickHouse cannot parse it or the printed tree cannot be read.
   */
  async parse(statement: Prepared): Promise<AstNode> {
    let text: string
    try {
      text = await this.#init.parser.text(`EXPLAIN AST ${statement.query}`, statement.query_params)
    } catch (error) {
      const e = toClickHouseError(error)
      // The parse session is read-only: a SETTINGS clause fails already here.
      if (e instanceof ClickHouseError && e.chCode === 164) throw new QueryError('the query is refused by the SQL sandbox: a SETTINGS clause is not allowed: the sandbox\'s limits cannot be changed by a query', { part: 'sql', rule: 'settings' })
      throw new QueryError(`the query does not parse: ${e.message}`, { part: 'sql', rule: 'syntax' })
    }
    try {
      return readExplainAst(text)
    } catch (error) {
      if (error instanceof AstReadError) throw new QueryError(`the query is refused: ${error.message} (use plain names without quotes holding spaces, parentheses or line breaks)`, { part: 'sql', rule: 'name' })
      throw error
    }
  }

  /**
   * Checks a statement against the sandbox's rules without running it.
   * @throws QueryError (code QUERY_REJECTED, HTTP 400) naming the rule broken (context `rule`).
   */
  async check(statement: Prepared): Promise<void> {
    const [tree, functions] = await Promise.all([this.parse(statement), this.functions()])
    try {
      judge(tree, { database: this.#init.database, functions })
    } catch (error) {
      if (error instanceof Refusal) throw new QueryError(`the query is refused by the SQL sandbox: ${error.message}`, { part: 'sql', rule: error.rule })
      throw error
    }
  }

  /**
   * Checks and runs a statement on a read-only session within the limits.
   * @returns the rows as JSONEachRow objects.
   * @throws QueryError for a refused query or one stopped by a limit (the message names the
   *   variable); FlowhouseError QUERY_QUEUE_FULL (HTTP 503, retriable) when `sessions` queries run
   *   and `queue` more wait; FlowhouseError READONLY_VIOLATION; ClickHouseError otherwise.
   */
  async query<T = Record<string, unknown>>(statement: Prepared): Promise<T[]> {
    await this.check(statement)
    try {
      return await this.#limiter.schedule(() => this.#run<T>(statement))
    } catch (error) {
      if (error instanceof Bottleneck.BottleneckError) {
        throw new FlowhouseError('QUERY_QUEUE_FULL', `${this.#init.readers.length} queries are running and ${this.options.queue} are waiting (FLOWHOUSE_SQL_SESSIONS, FLOWHOUSE_SQL_QUEUE); retry shortly`, { retriable: true })
      }
      throw error
    }
  }

  async #run<T>(statement: Prepared): Promise<T[]> {
    let client = this.#free.pop() as ClickHouseClient
    try {
      const settings = this.#init.requestSettings
      const result = await client.query({ ...statement, format: 'JSONEachRow', ...(settings ? { clickhouse_settings: settings } : {}) })
      return await result.json<T>()
    } catch (error) {
      client = await this.#renewed(client)
      throw this.#mapped(error)
    } finally {
      this.#free.push(client)
    }
  }

  /**
   * A fresh reader in place of one whose query failed (closed here), or the same one when the
   * sandbox has no `openReader` or opening fails (logged: the next query on it may read rows
   * the failed one left behind).
   */
  async #renewed(failed: ClickHouseClient): Promise<ClickHouseClient> {
    if (!this.#init.openReader) return failed
    let fresh: ClickHouseClient
    try {
      fresh = await this.#init.openReader()
    } catch (error) {
      log.warn({ err: error }, 'SQL sandbox: cannot open a new read-only session after a failed query; keeping the old one')
      return failed
    }
    this.#opened.delete(failed)
    this.#opened.add(fresh)
    await failed.close().catch(() => undefined)
    return fresh
  }

  #mapped(error: unknown): Error {
    if (error instanceof FlowhouseError) return error
    const e = toClickHouseError(error)
    if (e instanceof ClickHouseError && e.chCode === 164) return new FlowhouseError('READONLY_VIOLATION', `only read-only queries are allowed here: ${e.message}`, { cause: e })
    const variable = e instanceof ClickHouseError && e.chCode !== undefined ? LIMIT_ERRORS[e.chCode] : undefined
    if (variable) return new QueryError(`the query was stopped by a limit of the SQL sandbox (${variable}): ${messageOf(e)}`, { part: 'sql', rule: 'limit', chCode: e instanceof ClickHouseError ? e.chCode : undefined })
    return e
  }

  /**
   * Stops the parse engine and closes the readers it opened in place of failed ones. Idempotent;
   * never throws. The readers it was given belong to the ClickHouse handle.
   */
  async close(): Promise<void> {
    await this.#limiter.stop({ dropWaitingJobs: true }).catch(() => undefined)
    await this.#init.parser.close().catch(() => undefined)
    for (const c of this.#opened) await c.close().catch(() => undefined)
  }
}

/** The settings server mode sends with each caller query: the limits, then readonly. */
export function serverRequestSettings(options: SandboxOptions): Record<string, string> {
  return { ...limitSettings(options), readonly: '1' }
}
