/**
 * Reads and statements through the ClickHouse handle: `queryReadonly` for user SQL (admin API,
 * CLI), `queryRows` and `runCommand` for flowhouse's own SQL.
 *
 * Read-only enforcement: server mode sends ClickHouse's `readonly = 1` setting with the request;
 * embedded mode runs the query on a second chdb session pinned to `readonly = 1` (chdb honours
 * the setting: CREATE / INSERT / DROP / ALTER / TRUNCATE / OPTIMIZE, table functions and
 * `SETTINGS readonly = 0` all fail with READONLY, code 164). Only one statement per call is
 * accepted, because chdb runs every statement of a `;`-separated text.
 */
import { ClickHouseError, FlowhouseError, isProgrammerError, type ErrorContext } from '../errors.ts'
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
 * Runs one read-only statement (SELECT, SHOW, DESCRIBE, EXPLAIN, EXISTS) supplied by a user.
 * @param params values for `{name:Type}` placeholders (bound server-side, or into the text on 18.x).
 * @returns the rows as JSON objects.
 * @throws FlowhouseError READONLY_VIOLATION when the statement would write or change settings;
 *   FlowhouseError BAD_REQUEST for an empty text, several statements or a bad parameter;
 *   ClickHouseError for anything else ClickHouse refuses.
 */
export async function queryReadonly(ch: ClickHouse, sql: string, params?: QueryParams): Promise<Row[]> {
  const prepared = prepare(ch, sql, params)
  try {
    const result = await ch.readonlyClient.query({
      ...prepared,
      format: 'JSONEachRow',
      // Embedded: the read-only session already has readonly = 1, and a SET would be refused.
      ...(ch.mode === 'server' ? { clickhouse_settings: { readonly: '1' } } : {}),
    })
    return await result.json<Row>()
  } catch (error) {
    const e = mapped(error)
    if (e instanceof ClickHouseError && e.chCode === 164) {
      throw new FlowhouseError('READONLY_VIOLATION', `only read-only queries are allowed here: ${e.message}`, { cause: e })
    }
    throw e
  }
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
