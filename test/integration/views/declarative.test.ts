/**
 * Declarative views on real flights: a module declares views with from / groupBy / compute; the
 * daemon generates the state table, the MV and the merging query view. avg (kept as a sum and a
 * count) and count must match the same aggregates computed directly over the parquet rows. A view
 * using stddev cannot be incremental: the daemon says so at load and refreshes it on request.
 */
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { FLIGHTS_PARQUET, ROOT, flightsSource, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, truth, waitFor, type DaemonProcess } from '../helpers.ts'
import { api, details, waitCompleted, type JobView } from './helpers.ts'

const N1 = 150_000
const N2 = 50_000
let daemon: DaemonProcess
let dir: string

const moduleText = `
import { MaterializedView } from 'flowhouse'
import { flightsTable } from ${JSON.stringify(path.join(ROOT, 'pipelines/flights.ts'))}
export * from ${JSON.stringify(path.join(ROOT, 'pipelines/flights.ts'))}

export const originStats = new MaterializedView({
  name: 'origin_stats',
  from: flightsTable,
  groupBy: ['origin', { month: 'toStartOfMonth(date)' }],
  compute: {
    flights: { count: '*' },
    avg_delay: { avg: 'delay' },
    total_distance: { sum: 'distance' },
    min_delay: { min: 'delay' },
    max_delay: { max: 'delay' },
  },
})

export const longHaul = new MaterializedView({
  name: 'long_haul',
  from: flightsTable,
  filter: 'distance > 1000',
  groupBy: ['destination'],
  compute: { flights: { count: '*' }, avg_delay: { avg: 'delay' } },
})

export const delaySpread = new MaterializedView({
  name: 'delay_spread',
  from: flightsTable,
  groupBy: ['origin'],
  compute: { flights: { count: '*' }, sd_delay: { stddev: 'delay' } },
})
`

const count = async (): Promise<number> => Number((await sql<{ n: string }>(daemon.url, 'SELECT count() AS n FROM flights'))[0]!.n)

async function replay(skip: number, limit: number): Promise<void> {
  const { code, output } = await runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--skip', String(skip), '--limit', String(limit)]).done
  assert.equal(code, 0, output)
  await waitFor(async () => (await count()) === skip + limit, { timeoutMs: 300_000, what: `${skip + limit} flights` })
}

before(async () => {
  await resetKafka(['flights', 'flights.dlq'], ['flowhouse.flights'])
  dir = await tempDir('mv-declarative')
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(path.join(dir, 'pipelines', 'flights_views.ts'), moduleText)
  daemon = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data'), env: { FLOWHOUSE_BATCH_FLUSH_MS: '300' } })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dir) await removeDir(dir)
})

const round = (x: unknown): number => Math.round(Number(x) * 1e6) / 1e6

test('declarative views: count and avg (kept as sum and count) match direct SQL over the source; stddev refreshes on request', { timeout: 600_000 }, async () => {
  assert.match(daemon.output(), /delay_spread.*\\"sd_delay\\" \(stddev\) needs a full refresh, so the view is refreshed manually/, 'the daemon says at load that stddev forces a manual refresh')
  await replay(0, N1)

  const stats = await sql<{ origin: string; month: string; flights: string; avg_delay: number; total_distance: string; min_delay: number; max_delay: number }>(
    daemon.url,
    'SELECT origin, toString(month) AS month, flights, avg_delay, total_distance, min_delay, max_delay FROM origin_stats ORDER BY origin, month',
  )
  const statsTruth = await truth<{ origin: string; month: string; flights: number; avg_delay: number; total_distance: number; min_delay: number; max_delay: number }>(
    `SELECT origin, toString(toStartOfMonth(date)) AS month, count() AS flights, avg(delay) AS avg_delay, sum(distance) AS total_distance, min(delay) AS min_delay, max(delay) AS max_delay
     FROM ${flightsSource(N1)} GROUP BY origin, month ORDER BY origin, month`,
  )
  assert.ok(statsTruth.length > 100)
  const shape = (r: { origin: string; month: string; flights: unknown; avg_delay: unknown; total_distance: unknown; min_delay: unknown; max_delay: unknown }) => [
    r.origin,
    r.month,
    Number(r.flights),
    round(r.avg_delay),
    Number(r.total_distance),
    Number(r.min_delay),
    Number(r.max_delay),
  ]
  assert.deepEqual(stats.map(shape), statsTruth.map(shape), 'origin_stats equals count, avg, sum, min and max over the parquet rows')

  const haul = await sql<{ destination: string; flights: string; avg_delay: number }>(daemon.url, 'SELECT destination, flights, avg_delay FROM long_haul ORDER BY destination')
  const haulTruth = await truth<{ destination: string; flights: number; avg_delay: number }>(
    `SELECT destination, count() AS flights, avg(delay) AS avg_delay FROM ${flightsSource(N1)} WHERE distance > 1000 GROUP BY destination ORDER BY destination`,
  )
  assert.deepEqual(haul.map((r) => [r.destination, Number(r.flights), round(r.avg_delay)]), haulTruth.map((r) => [r.destination, Number(r.flights), round(r.avg_delay)]))

  // The non-incremental view is manual: empty until refreshed, then exact.
  const spread = await details(daemon.url, 'delay_spread')
  assert.equal(spread.job.status, 'completed')
  assert.equal(spread.status.state, 'stale')
  const refreshed = await api<{ kind: string; error?: string }>(daemon.url, 'POST', '/api/mv/delay_spread/refresh')
  assert.equal(refreshed.status, 200, refreshed.body.error)
  const sd = await sql<{ origin: string; flights: string; sd_delay: number }>(daemon.url, 'SELECT origin, flights, sd_delay FROM delay_spread ORDER BY origin')
  const sdTruth = await truth<{ origin: string; flights: number; sd_delay: number }>(`SELECT origin, count() AS flights, stddevPop(delay) AS sd_delay FROM ${flightsSource(N1)} GROUP BY origin ORDER BY origin`)
  assert.deepEqual(sd.map((r) => [r.origin, Number(r.flights), round(r.sd_delay)]), sdTruth.map((r) => [r.origin, Number(r.flights), round(r.sd_delay)]))

  // A declarative view created through the API over the existing rows is backfilled into its states,
  // then kept current by its MV while more flights arrive.
  const created = await api<{ job: JobView; error?: string }>(daemon.url, 'POST', '/api/mv', {
    name: 'route_avg',
    source_table: 'flights',
    group_by: ['route'],
    compute: { flights: { count: '*' }, avg_distance: { avg: 'distance' }, avg_delay: { avg: 'delay' } },
  })
  assert.equal(created.status, 201, created.body.error)
  await waitCompleted(daemon.url, 'route_avg')
  await replay(N1, N2)
  const routes = await api<{ rows: Array<{ route: string; flights: string; avg_distance: number; avg_delay: number }> }>(daemon.url, 'POST', '/api/mv/route_avg/query', {
    select: ['route', 'flights', 'avg_distance', 'avg_delay'],
    order_by: 'route',
    limit: 100_000,
  })
  assert.equal(routes.status, 200)
  const routesTruth = await truth<{ route: string; flights: number; avg_distance: number; avg_delay: number }>(
    `SELECT concat(origin, '-', destination) AS route, count() AS flights, avg(distance) AS avg_distance, avg(delay) AS avg_delay FROM ${flightsSource(N1 + N2)} GROUP BY route ORDER BY route`,
  )
  assert.ok(routesTruth.length > 1_000)
  assert.deepEqual(
    routes.body.rows.map((r) => [r.route, Number(r.flights), round(r.avg_distance), round(r.avg_delay)]),
    routesTruth.map((r) => [r.route, Number(r.flights), round(r.avg_distance), round(r.avg_delay)]),
  )
  // origin_stats kept up through its MV as well.
  const total = await sql<{ flights: string }>(daemon.url, 'SELECT sum(flights) AS flights FROM origin_stats')
  assert.equal(Number(total[0]!.flights), N1 + N2)
})
