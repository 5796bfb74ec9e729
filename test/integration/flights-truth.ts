/**
 * Compares the flights table and its two views, read through a daemon, with ClickHouse's own
 * aggregates over the same rows of the parquet file (the independent ground truth).
 */
import assert from 'node:assert/strict'
import { flightsSource, sql, truth } from './helpers.ts'

/** Asserts the table holds exactly `n` distinct flights and both views equal the ground truth. */
export async function assertFlightsMatchParquet(url: string, n: number): Promise<void> {
  const [table] = await sql<{ n: string; ids: string; delayed: string; bad_route: string }>(
    url,
    `SELECT count() AS n, uniqExact(id) AS ids, countIf(delayed) AS delayed, countIf(route != concat(origin, '-', destination)) AS bad_route FROM flights`,
  )
  const [expected] = await truth<{ delayed: number }>(`SELECT countIf(delay > 15) AS delayed FROM ${flightsSource(n)}`)
  assert.equal(Number(table!.n), n, 'rows in flights')
  assert.equal(Number(table!.ids), n, 'distinct ids in flights')
  assert.equal(Number(table!.delayed), expected!.delayed, 'delayed flights')
  assert.equal(Number(table!.bad_route), 0, 'routes derived by the transform')

  const daily = await sql<{ origin: string; day: string; flights: string; total_delay: string; delayed_flights: string }>(
    url,
    `SELECT origin, toString(day) AS day, sum(flights) AS flights, sum(total_delay) AS total_delay, sum(delayed_flights) AS delayed_flights
     FROM flights_daily_delays GROUP BY origin, day ORDER BY origin, day`,
  )
  const dailyTruth = await truth<{ origin: string; day: string; flights: number; total_delay: number; delayed_flights: number }>(
    `SELECT origin, toString(toDate(date)) AS day, count() AS flights, sum(delay) AS total_delay, countIf(delay > 15) AS delayed_flights
     FROM ${flightsSource(n)} GROUP BY origin, day ORDER BY origin, day`,
  )
  assert.ok(dailyTruth.length > 100, 'ground truth has many (origin, day) groups')
  assert.deepEqual(
    daily.map((r) => [r.origin, r.day, Number(r.flights), Number(r.total_delay), Number(r.delayed_flights)]),
    dailyTruth.map((r) => [r.origin, r.day, Number(r.flights), Number(r.total_delay), Number(r.delayed_flights)]),
    'flights_daily_delays equals the per-origin, per-day aggregate over the parquet file',
  )

  const routes = await sql<{ route: string; flights: string; avg_distance: number; max_delay: string }>(
    url,
    `SELECT route, countMerge(flights) AS flights, round(avgMerge(avg_distance), 6) AS avg_distance, maxMerge(max_delay) AS max_delay
     FROM flights_route_stats GROUP BY route ORDER BY route`,
  )
  const routeTruth = await truth<{ route: string; flights: number; avg_distance: number; max_delay: number }>(
    `SELECT concat(origin, '-', destination) AS route, count() AS flights, round(avg(distance), 6) AS avg_distance, max(delay) AS max_delay
     FROM ${flightsSource(n)} GROUP BY route ORDER BY route`,
  )
  assert.ok(routeTruth.length > 1000, 'ground truth has many routes')
  assert.deepEqual(
    routes.map((r) => [r.route, Number(r.flights), Number(r.avg_distance), Number(r.max_delay)]),
    routeTruth.map((r) => [r.route, Number(r.flights), Number(r.avg_distance), Number(r.max_delay)]),
    'flights_route_stats equals the per-route aggregate over the parquet file',
  )
}
