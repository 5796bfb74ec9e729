/**
 * Two-phase backfill under load: 1,000,000 real flights are replayed, then a new view is created
 * through the API while a further replay is still writing. The view must end equal to ClickHouse's
 * aggregate over everything ingested (the parquet rows, computed independently): nothing counted
 * twice around the cutoff, nothing missing.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { FLIGHTS_PARQUET, ROOT, flightsSource, metricValue, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, truth, waitFor, type DaemonProcess } from '../helpers.ts'
import { api, waitCompleted, type JobView } from './helpers.ts'

const N1 = 1_000_000
const N2 = 400_000
const VIEW = 'delays_by_origin_day'
let daemon: DaemonProcess
let dataDir: string

const count = async (url: string): Promise<number> => Number((await sql<{ n: string }>(url, 'SELECT count() AS n FROM flights'))[0]!.n)

before(async () => {
  await resetKafka(['flights', 'flights.dlq'], ['flowhouse.flights'])
  dataDir = await tempDir('mv-backfill')
  daemon = await startDaemon({ pipelinesDir: path.join(ROOT, 'pipelines'), dataDir, env: { FLOWHOUSE_BATCH_FLUSH_MS: '300', FLOWHOUSE_MV_BATCH_ROWS: '200000' } })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dataDir) await removeDir(dataDir)
})

test('a view created through the API during a replay equals the aggregate over every ingested flight: nothing double-counted at the cutoff, nothing missing', { timeout: 900_000 }, async () => {
  const first = await runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--limit', String(N1)]).done
  assert.equal(first.code, 0, first.output)
  await waitFor(async () => (await count(daemon.url)) === N1, { timeoutMs: 300_000, what: `${N1} flights` })

  // A further replay of new flights (ids continue at N1), slow enough to still be writing when the view is created.
  const further = runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--skip', String(N1), '--limit', String(N2), '--rate', '40000'])
  await waitFor(async () => (await count(daemon.url)) >= N1 + 40_000, { timeoutMs: 120_000, intervalMs: 50, what: 'the further replay to be writing' })

  const created = await api<{ job: JobView; error?: string }>(daemon.url, 'POST', '/api/mv', {
    name: VIEW,
    source_table: 'flights',
    engine: 'SummingMergeTree()',
    order_by: ['origin', 'day'],
    select_query: `SELECT origin, toDate(date) AS day, count() AS flights, sum(delay) AS total_delay, countIf(delayed) AS delayed_flights, sum(distance) AS distance
                   FROM {source_table} GROUP BY origin, day`,
  })
  assert.equal(created.status, 201, created.body.error)
  assert.equal(created.body.job.status, 'backfilling')
  assert.ok(created.body.job.cutoff !== null, 'a cutoff was recorded')

  const done = await further.done
  assert.equal(done.code, 0, done.output)
  await waitFor(async () => (await count(daemon.url)) === N1 + N2, { timeoutMs: 300_000, what: `${N1 + N2} flights` })
  const finished = await waitCompleted(daemon.url, VIEW)

  // The cutoff fell inside the further replay: some of its rows were backfilled, the rest came through the MV.
  assert.ok(finished.job.total_rows > N1 + 40_000 && finished.job.total_rows < N1 + N2, `rows at or before the cutoff: ${finished.job.total_rows}`)
  assert.equal(finished.job.processed_rows, finished.job.total_rows)
  assert.equal(finished.job.progress_percent, 100)

  const view = await sql<{ origin: string; day: string; flights: string; total_delay: string; delayed_flights: string; distance: string }>(
    daemon.url,
    `SELECT origin, toString(day) AS day, sum(flights) AS flights, sum(total_delay) AS total_delay, sum(delayed_flights) AS delayed_flights, sum(distance) AS distance
     FROM ${VIEW}_data GROUP BY origin, day ORDER BY origin, day`,
  )
  const expected = await truth<{ origin: string; day: string; flights: number; total_delay: number; delayed_flights: number; distance: number }>(
    `SELECT origin, toString(toDate(date)) AS day, count() AS flights, sum(delay) AS total_delay, countIf(delay > 15) AS delayed_flights, sum(distance) AS distance
     FROM ${flightsSource(N1 + N2)} GROUP BY origin, day ORDER BY origin, day`,
  )
  assert.ok(expected.length > 10_000, 'many (origin, day) groups')
  const rows = (r: { origin: string; day: string; flights: unknown; total_delay: unknown; delayed_flights: unknown; distance: unknown }) => [r.origin, r.day, Number(r.flights), Number(r.total_delay), Number(r.delayed_flights), Number(r.distance)]
  assert.deepEqual(view.map(rows), expected.map(rows), 'the view equals the aggregate over all 1,400,000 flights')

  // The same numbers through the query helper (values bound as parameters).
  const top = await api<{ rows: Array<{ origin: string; flights: string }> }>(daemon.url, 'POST', `/api/mv/${VIEW}/query`, {
    select: ['origin', 'sum(flights) AS flights'],
    group_by: ['origin'],
    order_by: 'flights DESC, origin',
    limit: 5,
  })
  assert.equal(top.status, 200)
  const topTruth = await truth<{ origin: string; flights: number }>(`SELECT origin, count() AS flights FROM ${flightsSource(N1 + N2)} GROUP BY origin ORDER BY flights DESC, origin LIMIT 5`)
  assert.deepEqual(top.body.rows.map((r) => [r.origin, Number(r.flights)]), topTruth.map((r) => [r.origin, Number(r.flights)]))

  assert.equal(await metricValue(daemon.url, 'flowhouse_mv_backfill_rows_total', { view: VIEW }), finished.job.total_rows)
  assert.equal(await metricValue(daemon.url, 'flowhouse_mv_refreshes_total', { view: VIEW, kind: 'backfill', status: 'ok' }), 1)
  assert.equal(finished.status.state, 'fresh')
  assert.equal(finished.refresh_log.refresh_count, 1)
})
