/**
 * Ground truth read by ClickHouse itself (chdb, in-process) from the same files, independent of
 * the replay readers. Rows keep file order (one thread, parquet order preserved).
 */
import { fileURLToPath } from 'node:url'
import { query } from 'chdb'

export const DATA = fileURLToPath(new URL('../../../node_modules/vega-datasets/data/', import.meta.url))
export const FLIGHTS_3M = `${DATA}flights-3m.parquet`
export const FLIGHTS_2K = `${DATA}flights-2k.json`

/** Runs SQL in chdb and parses its JSONEachRow output. */
export function chdb<T = Record<string, unknown>>(sql: string): T[] {
  return query(sql, 'JSONEachRow')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T)
}

/** Rows `[skip, skip + limit)` of flights-3m.parquet as ClickHouse reads them, `date` as ISO-8601 UTC, numbers as numbers. */
export function parquetRows(skip: number, limit: number): Array<Record<string, unknown>> {
  return chdb(
    `SELECT formatDateTime(date, '%Y-%m-%dT%H:%i:%S.000Z', 'UTC') AS date, toFloat64(delay) AS delay, toFloat64(distance) AS distance, origin, destination
     FROM file('${FLIGHTS_3M}', Parquet) LIMIT ${limit} OFFSET ${skip}
     SETTINGS max_threads = 1, input_format_parquet_preserve_order = 1, output_format_json_quote_64bit_integers = 0`,
  )
}
