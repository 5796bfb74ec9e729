/**
 * Reads and statements through the ClickHouse handle: `queryReadonly` for user SQL (admin API,
 * CLI), `queryRows` and `runCommand` for flowhouse's own SQL.
 *
 * Caller queries go through the SQL sandbox (sandbox/sandbox.ts); read-only enforcement is its
 * last wall: server mode sends `readonly = 1` with the request, embedded mode runs the query on
 * chdb sessions pinned to `readonly = 1`. Only one statement per call is accepted, because chdb
 * runs every statement of a `;`-separated text.
 */
import { FlowhouseError, isProgrammerError, type ErrorContext } from '../errors.ts'
import type { ClickHouse } from './client.ts'
import { toClickHouseError } from './errors.ts'
import { bindParamsInline, splitStatements } from './sqltext.ts'

/** Values for `{name:Type}` placeholders. */
export type QueryParams = Record<string, unknown>

/**
 * One result row as ClickHouse's JSONEachRow gives it. 64-bit integers (e.g. `count()`) arrive as
 * numbers from ClickHouse ≥ 25 and chdb, as strings from older servers (18.16): read them with
 * `Number(...)` or `BigInt(...)`.
 */
export type Row = Record<string, unknown>

function single(sql: string): string {
  const statements = splitStatements(sql)
  if (statements.length !== 1) {
    throw new FlowhouseError('BAD_REQUEST', statements.length === 0 ? 'the query is empty' : `send one statement at a time (got ${statements.length})`)
  }
  return statements[0] as string
}

/** SQL text and server-side parameters for this engine (inline binding when it has none). */
function prepare(ch: ClickHouse, sql: string, params: QueryParams | undefined): { query: string; query_params?: QueryParams } {
  const query = single(sql)
  if (!params || Object.keys(params).length === 0) return { query }
  return ch.capabilities.queryParameters ? { query, query_params: params } : { query: bindParamsInline(query, params) }
}

function mapped(error: unknown, context: ErrorContext = {}): Error {
  if (isProgrammerError(error) || error instanceof FlowhouseError) return error as Error
  return toClickHouseError(error, context)
}

/**
 * Runs one statement supplied by a caller (SELECT, SHOW TABLES, DESCRIBE, EXPLAIN) through the SQL
 * sandbox (src/clickhouse/sandbox): ClickHouse's parse judged against the allowlists, then a
 * read-only session with limits the query cannot raise.
 * @param params values for `{name:Type}` placeholders (bound server-side, or into the text on 18.x).
 * @returns the rows as JSON objects.
 * @throws QueryError (QUERY_REJECTED) for a refused query or one stopped by a limit;
 *   FlowhouseError QUERY_QUEUE_FULL when the sandbox's sessions and queue are full;
 *   FlowhouseError READONLY_VIOLATION; FlowhouseError BAD_REQUEST for an empty text, several
 *   statements or a bad parameter; ClickHouseError for anything else ClickHouse refuses.
 */
export async function queryReadonly(ch: ClickHouse, sql: string, params?: QueryParams): Promise<Row[]> {
  return ch.sandbox.query<Row>(prepare(ch, sql, params))
}

/**
 * Checks a caller's statement against the sandbox's rules without running it (e.g. the SELECT of
 * an API-created view before its DDL).
 * @throws QueryError (QUERY_REJECTED) naming the rule; FlowhouseError BAD_REQUEST for several statements.
 */
export async function checkSandboxed(ch: ClickHouse, sql: string): Promise<void> {
  await ch.sandbox.check(prepare(ch, sql, undefined))
}

/**
 * Runs one statement of flowhouse's own and returns its rows (read-write session, no settings).
 * @throws ClickHouseError (with `retriable`) when ClickHouse refuses or cannot be reached;
 *   FlowhouseError BAD_REQUEST for several statements or a bad parameter.
 */
export async function queryRows<T = Row>(ch: ClickHouse, sql: string, params?: QueryParams): Promise<T[]> {
  const prepared = prepare(ch, sql, params)
  try {
    const result = await ch.client.query({ ...prepared, format: 'JSONEachRow' })
    return await result.json<T>()
  } catch (error) {
    throw mapped(error)
  }
}

/**
 * Runs one statement that returns no rows (DDL) on the read-write session.
 * @throws ClickHouseError (with `retriable`) when ClickHouse refuses or cannot be reached.
 */
export async function runCommand(ch: ClickHouse, sql: string, context: ErrorContext = {}): Promise<void> {
  try {
    await ch.client.command({ query: single(sql) })
  } catch (error) {
    throw mapped(error, context)
  }
}
