/**
 * SQL shared by the benchmark's ClickHouse-side readers: the flights table and its two views as
 * the flights pipeline declares them (pipelines/flights.ts), the queries that read the views back
 * in one canonical form, and the same aggregates computed over the parquet file (the ground truth).
 */
import { flightsSource } from '../test/integration/helpers.ts'

/** The `flights` table and the two views of pipelines/flights.ts, for an engine without flowhouse. */
export const FLIGHTS_DDL = [
  `CREATE TABLE flights (id String, date DateTime64(3, 'UTC'), delay Int32, distance UInt32, origin String, destination String, delayed Bool, route String) ENGINE = MergeTree ORDER BY (id)`,
  `CREATE TABLE flights_daily_delays (origin String, day Date, flights UInt64, total_delay Int64, delayed_flights UInt64) ENGINE = SummingMergeTree ORDER BY (origin, day)`,
  `CREATE MATERIALIZED VIEW flights_daily_delays_mv TO flights_daily_delays AS SELECT origin, toDate(date) AS day, count() AS flights, sum(delay) AS total_delay, countIf(delayed) AS delayed_flights FROM flights GROUP BY origin, day`,
  `CREATE TABLE flights_route_stats (route String, flights AggregateFunction(count), avg_distance AggregateFunction(avg, UInt32), max_delay AggregateFunction(max, Int32)) ENGINE = AggregatingMergeTree ORDER BY (route)`,
  `CREATE MATERIALIZED VIEW flights_route_stats_mv TO flights_route_stats AS SELECT route, countState() AS flights, avgState(distance) AS avg_distance, maxState(delay) AS max_delay FROM flights GROUP BY route`,
]

/** The derived columns of the flights pipeline's transform (`enrich`), as SQL over a raw flight. */
export const DERIVED_COLUMNS = `delay > 15 AS delayed, concat(origin, '-', destination) AS route`

/** Reads the table and both views back; each answer row is turned into one line by `canonical`. */
export const VIEW_QUERIES = {
  table: `SELECT count() AS n, uniqExact(id) AS ids, countIf(delayed) AS delayed, countIf(route != concat(origin, '-', destination)) AS bad_route FROM flights`,
  daily: `SELECT origin, toString(day) AS day, sum(flights) AS flights, sum(total_delay) AS total_delay, sum(delayed_flights) AS delayed_flights
          FROM flights_daily_delays GROUP BY origin, day ORDER BY origin, day`,
  routes: `SELECT route, countMerge(flights) AS flights, round(avgMerge(avg_distance), 6) AS avg_distance, maxMerge(max_delay) AS max_delay
           FROM flights_route_stats GROUP BY route ORDER BY route`,
} as const

/** The same three answers, computed by ClickHouse over the first `n` flights of the parquet file. */
export function truthQueries(n: number): Record<keyof typeof VIEW_QUERIES, string> {
  const src = flightsSource(n)
  return {
    table: `SELECT count() AS n, uniqExact(id) AS ids, countIf(delay > 15) AS delayed, 0 AS bad_route FROM ${src}`,
    daily: `SELECT origin, toString(toDate(date)) AS day, count() AS flights, sum(delay) AS total_delay, countIf(delay > 15) AS delayed_flights
            FROM ${src} GROUP BY origin, day ORDER BY origin, day`,
    routes: `SELECT concat(origin, '-', destination) AS route, count() AS flights, round(avg(distance), 6) AS avg_distance, max(delay) AS max_delay
             FROM ${src} GROUP BY route ORDER BY route`,
  }
}

/** Answer rows as sorted lines of their values (numbers as numbers, whatever the JSON quoting of 64-bit integers). */
export function canonical(rows: Array<Record<string, unknown>>): string[] {
  return rows.map((r) => Object.values(r).map((v) => (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? String(Number(v)) : String(v))).join('|')).sort()
}

/** Every view's lines, by query name. */
export type ViewContents = Record<keyof typeof VIEW_QUERIES, string[]>

/**
 * Compares `got` with `expected` query by query.
 * @returns null when equal, else a message naming the query, the line counts and the first differing line.
 */
export function diffContents(got: ViewContents, expected: ViewContents): string | null {
  for (const key of Object.keys(VIEW_QUERIES) as Array<keyof ViewContents>) {
    const a = got[key]
    const b = expected[key]
    const i = a.findIndex((line, j) => line !== b[j])
    if (a.length !== b.length || i >= 0) return `${key}: ${a.length} lines, expected ${b.length}; first difference: got ${JSON.stringify(a[i] ?? a[b.length])}, expected ${JSON.stringify(b[i] ?? b[a.length])}`
  }
  return null
}
