/**
 * A backfill interrupted by SIGKILL at an arbitrary moment resumes after the restart from its
 * last recorded position, and the view is still exact. The kill usually lands in the pause between
 * batches; the rewrite of a batch that was inserted but not recorded (same deduplication token, not
 * counted twice) is hit on purpose by failpoints/backfill.test.ts.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, test } from 'node:test'
import { FLIGHTS_PARQUET, ROOT, flightsSource, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, truth, waitFor, type DaemonProcess } from '../helpers.ts'
import { api, details, waitCompleted, type JobView } from './helpers.ts'

const N = 300_000
const VIEW = 'route_delays'
let daemon: DaemonProcess | undefined
let dataDir: string

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dataDir) await removeDir(dataDir)
})

test('a backfill killed with SIGKILL resumes from its last position after the restart and the view is still exact', { timeout: 900_000 }, async () => {
  await resetKafka(['flights', 'flights.dlq'], ['flowhouse.flights'])
  dataDir = await tempDir('mv-killed')
  const pipelinesDir = path.join(ROOT, 'pipelines')
  // Small insert batches make many insert blocks, so the backfill has many small batches; the
  // pause between batches keeps it running long enough to be killed in the middle.
  const env = { FLOWHOUSE_BATCH_MAX_ROWS: '20000', FLOWHOUSE_BATCH_FLUSH_MS: '200' }
  daemon = await startDaemon({ pipelinesDir, dataDir, env: { ...env, FLOWHOUSE_MV_BACKFILL_PAUSE_MS: '400' } })
  const replay = await runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--limit', String(N)]).done
  assert.equal(replay.code, 0, replay.output)
  await waitFor(async () => Number((await sql<{ n: string }>(daemon!.url, 'SELECT count() AS n FROM flights'))[0]!.n) === N, { timeoutMs: 300_000, what: `${N} flights` })

  const created = await api<{ job: JobView; error?: string }>(daemon.url, 'POST', '/api/mv', {
    name: VIEW,
    source_table: 'flights',
    engine: 'AggregatingMergeTree',
    order_by: ['route'],
    batch_rows: 20_000,
    select_query: 'SELECT route, countState() AS flights, sumState(delay) AS total_delay, maxState(delay) AS max_delay, uniqExactState(id) AS ids FROM {source_table} GROUP BY route',
  })
  assert.equal(created.status, 201, created.body.error)

  const before = await waitFor(
    async () => {
      const d = await details(daemon!.url, VIEW)
      return d.job.status === 'backfilling' && d.job.total_rows > 0 && d.job.processed_rows >= d.job.total_rows * 0.2 ? d.job : undefined
    },
    { timeoutMs: 120_000, intervalMs: 25, what: 'the backfill to be under way' },
  )
  await daemon.kill('SIGKILL')
  assert.ok(before.processed_rows < before.total_rows, `killed mid-backfill (${before.processed_rows} of ${before.total_rows} rows)`)
  assert.ok(before.last_position !== null)

  // Only /health: the consumer group may take a session timeout to let the killed member go, and the backfill does not wait for it.
  daemon = await startDaemon({ pipelinesDir, dataDir, env, waitReady: false })
  const finished = await waitCompleted(daemon.url, VIEW)
  assert.equal(finished.job.attempts, 2, 'the backfill was resumed once, not started over as a new job')
  assert.equal(finished.job.total_rows, N)
  assert.equal(finished.job.processed_rows, N)
  assert.match(daemon.output(), /resuming backfill/)

  const view = await sql<{ route: string; flights: string; total_delay: string; max_delay: string; ids: string }>(
    daemon.url,
    `SELECT route, countMerge(flights) AS flights, sumMerge(total_delay) AS total_delay, maxMerge(max_delay) AS max_delay, uniqExactMerge(ids) AS ids
     FROM ${VIEW}_data GROUP BY route ORDER BY route`,
  )
  const expected = await truth<{ route: string; flights: number; total_delay: number; max_delay: number }>(
    `SELECT concat(origin, '-', destination) AS route, count() AS flights, sum(delay) AS total_delay, max(delay) AS max_delay FROM ${flightsSource(N)} GROUP BY route ORDER BY route`,
  )
  assert.ok(expected.length > 1_000)
  assert.deepEqual(
    view.map((r) => [r.route, Number(r.flights), Number(r.total_delay), Number(r.max_delay), Number(r.ids)]),
    expected.map((r) => [r.route, Number(r.flights), Number(r.total_delay), Number(r.max_delay), Number(r.flights)]),
    'every route counts each flight exactly once',
  )
})
