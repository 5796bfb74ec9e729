/**
 * End to end on real data: 200,000 real flights replayed from the parquet file through the real
 * broker into the embedded ClickHouse; the materialized views must equal what ClickHouse
 * computes directly over the same rows of the parquet file.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { FLIGHTS_PARQUET, ROOT, flightsSource, metricValue, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, truth, waitFor, type DaemonProcess } from './helpers.ts'

const N = 200_000
let daemon: DaemonProcess
let dataDir: string

before(async () => {
  await resetKafka(['flights', 'flights.dlq'], ['flowhouse.flights'])
  dataDir = await tempDir('flights-replay')
  daemon = await startDaemon({ pipelinesDir: path.join(ROOT, 'pipelines'), dataDir, env: { FLOWHOUSE_BATCH_FLUSH_MS: '500' } })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dataDir) await removeDir(dataDir)
})

test('200,000 replayed flights land in the flights table and both views equal ClickHouse aggregates over the parquet file', { timeout: 600_000 }, async () => {
  const replay = runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--limit', String(N), '--batch', '1000'])
  const { code, output } = await replay.done
  assert.equal(code, 0, output)

  await waitFor(async () => (await sql<{ n: string }>(daemon.url, 'SELECT count() AS n FROM flights'))[0]!.n == String(N), {
    timeoutMs: 300_000,
    what: `${N} rows in flights`,
  })

  // The table: every id exactly once, and the derived fields computed as the transform promises.
  const [table] = await sql<{ n: string; ids: string; delayed: string; bad_route: string }>(
    daemon.url,
    `SELECT count() AS n, uniqExact(id) AS ids, countIf(delayed) AS delayed, countIf(route != concat(origin, '-', destination)) AS bad_route FROM flights`,
  )
  const [expected] = await truth<{ delayed: number }>(`SELECT countIf(delay > 15) AS delayed FROM ${flightsSource(N)}`)
  assert.equal(Number(table!.ids), N)
  assert.equal(Number(table!.delayed), expected!.delayed)
  assert.equal(Number(table!.bad_route), 0)

  // Daily delays per origin (SummingMergeTree), compared row by row.
  const daily = await sql<{ origin: string; day: string; flights: string; total_delay: string; delayed_flights: string }>(
    daemon.url,
    `SELECT origin, toString(day) AS day, sum(flights) AS flights, sum(total_delay) AS total_delay, sum(delayed_flights) AS delayed_flights
     FROM flights_daily_delays GROUP BY origin, day ORDER BY origin, day`,
  )
  const dailyTruth = await truth<{ origin: string; day: string; flights: number; total_delay: number; delayed_flights: number }>(
    `SELECT origin, toString(toDate(date)) AS day, count() AS flights, sum(delay) AS total_delay, countIf(delay > 15) AS delayed_flights
     FROM ${flightsSource(N)} GROUP BY origin, day ORDER BY origin, day`,
  )
  assert.ok(dailyTruth.length > 100, 'ground truth has many (origin, day) groups')
  assert.deepEqual(
    daily.map((r) => [r.origin, r.day, Number(r.flights), Number(r.total_delay), Number(r.delayed_flights)]),
    dailyTruth.map((r) => [r.origin, r.day, Number(r.flights), Number(r.total_delay), Number(r.delayed_flights)]),
  )

  // Per-route statistics from AggregatingMergeTree states.
  const routes = await sql<{ route: string; flights: string; avg_distance: number; max_delay: string }>(
    daemon.url,
    `SELECT route, countMerge(flights) AS flights, round(avgMerge(avg_distance), 6) AS avg_distance, maxMerge(max_delay) AS max_delay
     FROM flights_route_stats GROUP BY route ORDER BY route`,
  )
  const routeTruth = await truth<{ route: string; flights: number; avg_distance: number; max_delay: number }>(
    `SELECT concat(origin, '-', destination) AS route, count() AS flights, round(avg(distance), 6) AS avg_distance, max(delay) AS max_delay
     FROM ${flightsSource(N)} GROUP BY route ORDER BY route`,
  )
  assert.ok(routeTruth.length > 1000)
  assert.deepEqual(
    routes.map((r) => [r.route, Number(r.flights), Number(r.avg_distance), Number(r.max_delay)]),
    routeTruth.map((r) => [r.route, Number(r.flights), Number(r.avg_distance), Number(r.max_delay)]),
  )

  // Every consumed record is accounted for: written, dead-lettered or filtered.
  const consumed = await metricValue(daemon.url, 'flowhouse_records_consumed_total', { pipeline: 'flights' })
  const written = await metricValue(daemon.url, 'flowhouse_records_written_total', { pipeline: 'flights', table: 'flights' })
  const dlq = await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: 'flights' })
  const filtered = await metricValue(daemon.url, 'flowhouse_records_filtered_total', { pipeline: 'flights' })
  assert.equal(consumed, N)
  assert.equal(written, N)
  assert.equal(dlq + filtered, 0)
})
