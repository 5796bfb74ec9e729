/**
 * A backfill stopped at each step of its loop. 20,000 real flights are written once (in 10 insert
 * blocks); then, on the same data folder, a daemon armed to die at a backfill failpoint on the third
 * batch creates a view through the API, and a second daemon resumes it. The restart must resume
 * from the interrupted batch's start (after the insert, before its progress: the batch is written
 * again with the same token) or its end (after the progress), and the view must equal ClickHouse's
 * aggregate over the parquet file. `error` variants retry without a crash; a negative control
 * without tokens counts the rewritten batch twice.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { FLIGHTS_PARQUET, ROOT, flightsSource, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, truth, waitFor } from '../helpers.ts'
import { api, details, waitCompleted, type JobView } from '../views/helpers.ts'
import { expireMembers, failpointLines, launch, logLines, waitUp, type FailpointLine, type Launched } from './helpers.ts'

const N = 20_000
const BATCH_ROWS = 2_000
const pipelinesDir = path.join(ROOT, 'pipelines')
const ENV = { FLOWHOUSE_BATCH_MAX_ROWS: '2000', FLOWHOUSE_BATCH_FLUSH_MS: '5000', FLOWHOUSE_RELOAD_INTERVAL_MS: '0' }
const running: Launched[] = []
let dataDir: string
let expected: Array<[string, number, number, number, number]>

after(async () => {
  for (const d of running) await d.stop('SIGKILL')
  if (dataDir) await removeDir(dataDir)
})

before(async () => {
  await resetKafka(['flights', 'flights.dlq'], ['flowhouse.flights'])
  dataDir = await tempDir('fp-backfill')
  const daemon = await startDaemon({ pipelinesDir, dataDir, env: ENV })
  try {
    const replay = await runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--limit', String(N), '--batch', '500']).done
    assert.equal(replay.code, 0, replay.output)
    await waitFor(async () => Number((await sql<{ n: string }>(daemon.url, 'SELECT count() AS n FROM flights'))[0]!.n) === N, { what: `${N} flights` })
  } finally {
    await daemon.kill('SIGTERM')
  }
  const rows = await truth<{ route: string; flights: number; total_delay: number; max_delay: number }>(
    `SELECT concat(origin, '-', destination) AS route, count() AS flights, sum(delay) AS total_delay, max(delay) AS max_delay FROM ${flightsSource(N)} GROUP BY route ORDER BY route`,
  )
  assert.ok(rows.length > 500)
  expected = rows.map((r) => [r.route, Number(r.flights), Number(r.total_delay), Number(r.max_delay), Number(r.flights)])
})

async function createView(url: string, name: string): Promise<void> {
  const created = await api<{ job: JobView; error?: string }>(url, 'POST', '/api/mv', {
    name,
    source_table: 'flights',
    engine: 'AggregatingMergeTree',
    order_by: ['route'],
    batch_rows: BATCH_ROWS,
    select_query: 'SELECT route, countState() AS flights, sumState(delay) AS total_delay, maxState(delay) AS max_delay, uniqExactState(id) AS ids FROM {source_table} GROUP BY route',
  })
  assert.equal(created.status, 201, created.body.error)
}

async function viewRows(url: string, name: string): Promise<Array<[string, number, number, number, number]>> {
  const rows = await sql<{ route: string; flights: string; total_delay: string; max_delay: string; ids: string }>(
    url,
    `SELECT route, countMerge(flights) AS flights, sumMerge(total_delay) AS total_delay, maxMerge(max_delay) AS max_delay, uniqExactMerge(ids) AS ids FROM ${name}_data GROUP BY route ORDER BY route`,
  )
  return rows.map((r) => [r.route, Number(r.flights), Number(r.total_delay), Number(r.max_delay), Number(r.ids)])
}

/** Figures of a view against the flights: rows counted, distinct ids, loss and duplicates. */
function figures(view: Array<[string, number, number, number, number]>): { rows: number; ids: number; loss: number; dup: number } {
  const rows = view.reduce((n, r) => n + r[1], 0)
  const ids = view.reduce((n, r) => n + r[4], 0)
  return { rows, ids, loss: N - ids, dup: rows - ids }
}

/** Starts a daemon armed with `failpoints`, creates `view` and waits until the failpoint kills it. */
async function crash(view: string, failpoints: string): Promise<FailpointLine> {
  const d = await launch({ pipelinesDir, dataDir, env: { ...ENV, FLOWHOUSE_FAILPOINTS: failpoints } })
  running.push(d)
  await waitUp(d)
  await createView(d.url, view)
  const end = await Promise.race([d.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 120_000).unref())])
  assert.deepEqual(end, { code: null, signal: 'SIGKILL' }, d.output().slice(-3000))
  const lines = failpointLines(d.output())
  assert.equal(lines.length, 1, d.output().slice(-3000))
  await expireMembers('flowhouse.flights')
  return lines[0]!
}

async function resume(view: string, env: Record<string, string> = {}): Promise<{ d: Launched; job: JobView; from: { last: string | null } }> {
  const d = await launch({ pipelinesDir, dataDir, env: { ...ENV, ...env } })
  running.push(d)
  await waitUp(d)
  const { job } = await waitCompleted(d.url, view, 120_000)
  const [resumed] = logLines(d.output(), 'resuming backfill').filter((l) => l.view === view)
  assert.ok(resumed, `the restart resumed the backfill of ${view}`)
  return { d, job, from: (resumed.from as Array<{ last: string | null }>)[0]! }
}

const CASES = [
  { step: 'backfill.after-insert', resumesAt: (h: FailpointLine) => h.lo, what: "the interrupted batch's start: it is written again" },
  { step: 'backfill.after-progress', resumesAt: (h: FailpointLine) => h.hi, what: "the interrupted batch's end" },
] as const

for (const [i, c] of CASES.entries()) {
  test(`a backfill killed at ${c.step} resumes from ${c.what}, and the view counts every flight exactly once`, { timeout: 300_000 }, async (t) => {
    const view = `fp_backfill_${i}`
    const hit = await crash(view, `${c.step}=exit@3`)
    assert.equal(hit.failpoint, c.step)
    const { d, job, from } = await resume(view)
    assert.equal(from.last, c.resumesAt(hit), `resumed from ${c.step === 'backfill.after-insert' ? 'lo' : 'hi'} of the interrupted batch ${JSON.stringify(hit)}`)
    assert.equal(job.attempts, 2)
    assert.equal(job.processed_rows, N)
    const rows = await viewRows(d.url, view)
    const f = figures(rows)
    t.diagnostic(`${c.step}: crashed batch ${hit.lo}-${hit.hi} (${hit.rows} rows); rows=${f.rows} loss=${f.loss} dup=${f.dup}`)
    assert.deepEqual(f, { rows: N, ids: N, loss: 0, dup: 0 })
    assert.deepEqual(rows, expected, 'every route equals the aggregate over the parquet file')
    await d.stop()
  })
}

test('each backfill failpoint armed with error makes the job retry from its saved progress without a crash, and the view is exact', { timeout: 300_000 }, async (t) => {
  const view = 'fp_backfill_errors'
  const d = await launch({ pipelinesDir, dataDir, env: { ...ENV, FLOWHOUSE_FAILPOINTS: 'backfill.after-insert=error@2,backfill.after-progress=error@4' } })
  running.push(d)
  await waitUp(d)
  await createView(d.url, view)
  const { job } = await waitCompleted(d.url, view, 120_000)
  assert.deepEqual(failpointLines(d.output()).map((h) => h.failpoint), ['backfill.after-insert', 'backfill.after-progress'])
  const retried = logLines(d.output(), 'view job hit a retriable error; retrying')
  assert.equal(retried.length, 2, 'one retry per injected error')
  assert.ok(retried.every((l) => String(l.error).includes('injected a retriable error')))
  assert.equal(job.attempts, 1, 'retried inside the same attempt, no restart')
  const rows = await viewRows(d.url, view)
  const f = figures(rows)
  t.diagnostic(`backfill errors: rows=${f.rows} loss=${f.loss} dup=${f.dup}`)
  assert.deepEqual(rows, expected)
  await d.stop()
})

test('negative control: without deduplication tokens a backfill killed after an insert counts the interrupted batch twice', { timeout: 300_000 }, async (t) => {
  const view = 'fp_backfill_no_dedup'
  const hit = await crash(view, 'backfill.after-insert=exit@3,backfill.no-dedup-token=on')
  const { d } = await resume(view, { FLOWHOUSE_FAILPOINTS: 'backfill.no-dedup-token=on' })
  const f = figures(await viewRows(d.url, view))
  t.diagnostic(`backfill without tokens: crashed batch ${hit.lo}-${hit.hi} (${hit.rows} rows); rows=${f.rows} loss=${f.loss} dup=${f.dup}`)
  assert.ok(Number(hit.rows) > 0)
  assert.deepEqual(f, { rows: N + Number(hit.rows), ids: N, loss: 0, dup: Number(hit.rows) }, 'the rewritten batch is counted twice')
  await d.stop()
})

// The same data folder, a daemon without failpoints: the backfill and refresh API, /api/sql and the CLI.
let plain: Launched | undefined

async function plainDaemon(): Promise<Launched> {
  if (plain) return plain
  plain = await launch({ pipelinesDir, dataDir, env: ENV })
  running.push(plain)
  await waitUp(plain)
  return plain
}

async function cli(args: string[], url: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), ...args], { cwd: ROOT, env: { ...process.env, FLOWHOUSE_URL: url }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

test('a view created with backfill: false stays pending and empty until POST /api/mv/:name/backfill starts it; then it equals the aggregate', { timeout: 120_000 }, async () => {
  const d = await plainDaemon()
  const view = 'api_backfill'
  const created = await api<{ job: JobView; error?: string }>(d.url, 'POST', '/api/mv', {
    name: view,
    source_table: 'flights',
    engine: 'AggregatingMergeTree',
    order_by: ['route'],
    batch_rows: BATCH_ROWS,
    backfill: false,
    select_query: 'SELECT route, countState() AS flights, sumState(delay) AS total_delay, maxState(delay) AS max_delay, uniqExactState(id) AS ids FROM {source_table} GROUP BY route',
  })
  assert.equal(created.status, 201, created.body.error)
  assert.equal((await details(d.url, view)).job.status, 'pending')
  assert.deepEqual(await viewRows(d.url, view), [], 'nothing backfilled before the request')
  const started = await api<{ job: JobView }>(d.url, 'POST', `/api/mv/${view}/backfill`)
  assert.equal(started.status, 202)
  const { job } = await waitCompleted(d.url, view, 60_000)
  assert.equal(job.processed_rows, N)
  assert.deepEqual(await viewRows(d.url, view), expected)
})

test('POST /api/mv/:name/backfill on a completed view answers 409 and says how to rebuild it', { timeout: 60_000 }, async () => {
  const d = await plainDaemon()
  const again = await api<{ error: string }>(d.url, 'POST', '/api/mv/api_backfill/backfill')
  assert.equal(again.status, 409)
  assert.equal(again.body.error, 'view "api_backfill" is already backfilled; POST /api/mv/api_backfill/refresh?full=true rebuilds it')
  assert.equal((await api(d.url, 'POST', '/api/mv/no_such_view/backfill')).status, 404)
})

test('refresh of a streaming view does nothing without full; with full=true it empties the target and backfills it again, and the view counts each flight once', { timeout: 120_000 }, async () => {
  const d = await plainDaemon()
  const plainRefresh = await api<{ kind: string; message: string }>(d.url, 'POST', '/api/mv/fp_backfill_errors/refresh')
  assert.equal(plainRefresh.status, 200)
  assert.deepEqual([plainRefresh.body.kind, plainRefresh.body.message], ['none', 'a streaming view is kept current by its MV trigger; pass full=true to rebuild it'])
  const rebuild = await api<{ kind: string; job: JobView }>(d.url, 'POST', '/api/mv/fp_backfill_errors/refresh?full=true')
  assert.equal(rebuild.status, 202)
  assert.equal(rebuild.body.kind, 'rebuild')
  const { job } = await waitCompleted(d.url, 'fp_backfill_errors', 60_000)
  assert.equal(job.processed_rows, N)
  assert.deepEqual(await viewRows(d.url, 'fp_backfill_errors'), expected, 'rebuilt, not added on top of the old rows')
})

test('/api/sql refuses writes over HTTP with 400 and the table is unchanged', { timeout: 60_000 }, async () => {
  const d = await plainDaemon()
  for (const query of ["INSERT INTO flights (id) VALUES ('x')", 'DROP TABLE flights', 'ALTER TABLE flights DELETE WHERE 1', 'TRUNCATE TABLE flights']) {
    const res = await fetch(`${d.url}/api/sql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })
    const body = (await res.json()) as { error?: string }
    assert.equal(res.status, 400, `${query}: ${JSON.stringify(body)}`)
    assert.ok(body.error && body.error.length > 0, query)
  }
  const [counts] = await sql<{ n: string; ids: string }>(d.url, 'SELECT count() AS n, uniqExact(id) AS ids FROM flights')
  assert.deepEqual([Number(counts!.n), Number(counts!.ids)], [N, N])
})

test('the CLI: flowhouse sql prints the rows as JSON and fails on a write; flowhouse mv refresh --full rebuilds a view, even one created without backfill', { timeout: 120_000 }, async () => {
  const d = await plainDaemon()
  const read = await cli(['sql', 'SELECT count() AS n, uniqExact(id) AS ids FROM flights', '--format', 'json'], d.url)
  assert.equal(read.code, 0, read.stderr)
  assert.deepEqual((JSON.parse(read.stdout) as Array<{ n: string; ids: string }>).map((r) => [Number(r.n), Number(r.ids)]), [[N, N]])
  const write = await cli(['sql', 'DROP TABLE flights'], d.url)
  assert.notEqual(write.code, 0, 'a write fails the command')
  assert.ok(write.stderr.length > 0)
  // Regression: a view created with backfill: false was emptied by a full refresh and left pending.
  const refresh = await cli(['mv', 'refresh', 'api_backfill', '--full'], d.url)
  assert.equal(refresh.code, 0, refresh.stderr)
  assert.equal((JSON.parse(refresh.stdout) as { kind: string }).kind, 'rebuild')
  const { job } = await waitCompleted(d.url, 'api_backfill', 60_000)
  assert.equal(job.processed_rows, N)
  assert.deepEqual(await viewRows(d.url, 'api_backfill'), expected)
})
