/**
 * Refresh modes on real flights: a scheduled view refreshing every 2 seconds with `replace` keeps
 * its refresh log and stays readable during every swap; a manual view changes only on request
 * (and reports itself stale, within its grace period, meanwhile); an `append` view adds only what
 * arrived since its last refresh. Every figure is compared with ClickHouse's aggregate over the
 * parquet rows.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { FLIGHTS_PARQUET, ROOT, flightsSource, metricValue, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, truth, waitFor, type DaemonProcess } from '../helpers.ts'
import { api, details, type JobView } from './helpers.ts'

const N1 = 100_000
const N2 = 50_000
let daemon: DaemonProcess
let dataDir: string

const SELECT = 'SELECT origin, count() AS flights, sum(delay) AS total_delay FROM {source_table} GROUP BY origin'
const count = async (url: string): Promise<number> => Number((await sql<{ n: string }>(url, 'SELECT count() AS n FROM flights'))[0]!.n)
const byOrigin = async (table: string) =>
  (await sql<{ origin: string; flights: string; total_delay: string }>(daemon.url, `SELECT origin, sum(flights) AS flights, sum(total_delay) AS total_delay FROM ${table} GROUP BY origin ORDER BY origin`)).map((r) => [
    r.origin,
    Number(r.flights),
    Number(r.total_delay),
  ])
const truthByOrigin = async (n: number) =>
  (await truth<{ origin: string; flights: number; total_delay: number }>(`SELECT origin, count() AS flights, sum(delay) AS total_delay FROM ${flightsSource(n)} GROUP BY origin ORDER BY origin`)).map((r) => [
    r.origin,
    Number(r.flights),
    Number(r.total_delay),
  ])

async function replay(skip: number, limit: number): Promise<void> {
  const { code, output } = await runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--skip', String(skip), '--limit', String(limit)]).done
  assert.equal(code, 0, output)
  await waitFor(async () => (await count(daemon.url)) === skip + limit, { timeoutMs: 300_000, what: `${skip + limit} flights` })
}

before(async () => {
  await resetKafka(['flights', 'flights.dlq'], ['flowhouse.flights'])
  dataDir = await tempDir('mv-refresh')
  daemon = await startDaemon({ pipelinesDir: path.join(ROOT, 'pipelines'), dataDir, env: { FLOWHOUSE_BATCH_FLUSH_MS: '300', FLOWHOUSE_MV_STATUS_INTERVAL_MS: '500' } })
  await replay(0, N1)
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dataDir) await removeDir(dataDir)
})

test('scheduled (replace, every 2 s), manual and append views follow their refresh modes', { timeout: 600_000 }, async () => {
  const create = async (name: string, refresh: Record<string, unknown>) => {
    const r = await api<{ job: JobView; error?: string }>(daemon.url, 'POST', '/api/mv', { name, source_table: 'flights', engine: 'SummingMergeTree', order_by: ['origin'], select_query: SELECT, refresh })
    assert.equal(r.status, 201, r.body.error)
    assert.equal(r.body.job.status, 'completed', 'the first refresh runs at creation')
    return r.body.job
  }
  await create('sched_origin', { mode: 'scheduled', schedule: '*/2 * * * * *', strategy: 'replace' })
  await create('manual_origin', { mode: 'manual', grace_period: '1h' })
  await create('append_origin', { mode: 'manual', strategy: 'append' })
  const first = await truthByOrigin(N1)
  assert.deepEqual(await byOrigin('sched_origin_data'), first)
  assert.deepEqual(await byOrigin('manual_origin_data'), first)
  assert.deepEqual(await byOrigin('append_origin_data'), first)

  // Readers during at least three swaps: every read answers, with the whole table.
  const startCount = (await details(daemon.url, 'sched_origin')).refresh_log.refresh_count
  let reads = 0
  while ((await details(daemon.url, 'sched_origin')).refresh_log.refresh_count < startCount + 3) {
    const [row] = await sql<{ flights: string; origins: string }>(daemon.url, 'SELECT sum(flights) AS flights, uniqExact(origin) AS origins FROM sched_origin_data')
    assert.equal(Number(row!.flights), N1, 'a read during a refresh sees the whole old table or the whole new one')
    assert.equal(Number(row!.origins), first.length)
    reads++
  }
  assert.ok(reads > 20, `read continuously across the swaps (${reads} reads)`)

  const secondReplayAt = Date.now()
  await replay(N1, N2)
  const second = await truthByOrigin(N1 + N2)
  await waitFor(async () => JSON.stringify(await byOrigin('sched_origin_data')) === JSON.stringify(second), { timeoutMs: 30_000, what: 'the scheduled view to pick up the new flights' })

  const sched = await details(daemon.url, 'sched_origin')
  assert.ok(sched.refresh_log.refresh_count >= startCount + 4)
  assert.ok(sched.refresh_log.avg_refresh_time_ms > 0 && (sched.refresh_log.last_refresh_time_ms ?? 0) > 0)
  assert.ok(Date.parse(sched.refresh_log.last_refreshed_at!) > Date.now() - 10_000)
  assert.ok((await metricValue(daemon.url, 'flowhouse_mv_refreshes_total', { view: 'sched_origin', kind: 'full', status: 'ok' })) >= startCount + 4)
  assert.ok((await metricValue(daemon.url, 'flowhouse_mv_refresh_duration_seconds_count', { view: 'sched_origin' })) >= startCount + 4)

  // The manual view did not move, and knows it is behind its source.
  const stale = await details(daemon.url, 'manual_origin')
  assert.deepEqual(await byOrigin('manual_origin_data'), first, 'a manual view changes only on request')
  assert.equal(stale.status.state, 'stale')
  // Stale since the new flights arrived, and for as long as the clock says.
  const staleSince = Date.parse(stale.status.staleSince ?? '')
  assert.ok(staleSince >= secondReplayAt - 1_000 && staleSince <= Date.now(), `stale since the second replay: ${stale.status.staleSince}`)
  assert.ok(Math.abs(stale.status.stalenessSeconds - (Date.now() - staleSince) / 1000) < 10, `staleness ${stale.status.stalenessSeconds} s matches staleSince`)
  assert.equal(stale.status.usable, true, 'stale within its one-hour grace period')
  assert.equal(stale.refresh_log.refresh_count, 1)
  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_mv_state', { view: 'manual_origin', state: 'stale' })) === 1, { what: 'the stale state on /metrics' })

  const refreshed = await api<{ kind: string; rows: number; status: { state: string }; error?: string }>(daemon.url, 'POST', '/api/mv/manual_origin/refresh')
  assert.equal(refreshed.status, 200, refreshed.body.error)
  assert.equal(refreshed.body.kind, 'full')
  assert.equal(refreshed.body.status.state, 'fresh')
  assert.deepEqual(await byOrigin('manual_origin_data'), second)
  assert.equal((await details(daemon.url, 'manual_origin')).refresh_log.refresh_count, 2)

  // Append: only the new rows are aggregated and added; a second refresh with nothing new adds nothing.
  const appended = await api<{ kind: string; rows: number; error?: string }>(daemon.url, 'POST', '/api/mv/append_origin/refresh')
  assert.equal(appended.status, 200, appended.body.error)
  assert.equal(appended.body.kind, 'incremental')
  assert.equal(appended.body.rows, N2)
  const again = await api<{ rows: number }>(daemon.url, 'POST', '/api/mv/append_origin/refresh')
  assert.equal(again.body.rows, 0)
  assert.deepEqual(await byOrigin('append_origin_data'), second)

  // A streaming view has nothing to refresh without full=true.
  const streaming = await api<{ kind: string }>(daemon.url, 'POST', '/api/mv/flights_daily_delays_mv/refresh')
  assert.equal(streaming.status, 200)
  assert.equal(streaming.body.kind, 'none')
})
