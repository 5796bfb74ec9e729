/**
 * Operating flowhouse, end to end on real parts: real flights replayed through the real broker
 * into a daemon (embedded ClickHouse) scraped by a real Prometheus (Debian's `prometheus`)
 * that also evaluates grafana/alerts.yml; a second daemon on the real ClickHouse server whose
 * readiness follows the server going down and up; and the check that every metric the
 * dashboards and alert rules use is exported by those running daemons.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { FLIGHTS_PARQUET, ROOT, flightsSource, kafka, metricValue, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, truth, waitFor, type DaemonProcess } from '../helpers.ts'
import { ALERTS_FILE, PROMETHEUS_SERIES, alertQueries, dashboardQueries, queryMetricNames, substituteGrafanaVariables } from '../../unit/grafana/queries.ts'
import { startPrometheus, type PrometheusServer } from './prometheus.ts'

const run = promisify(execFile)
const hex = randomBytes(4).toString('hex')
const NAME = `ops_${hex}`
const PROBE = `${NAME}_probe`
const LATE = `${NAME}_late`
const LIMITED = `${NAME}_limited`
const TOPICS = [NAME, `${NAME}.dlq`, LATE, `${LATE}.dlq`, PROBE, `${PROBE}.dlq`, LIMITED, `${LIMITED}.dlq`]
const GROUPS = [`flowhouse.${NAME}`, `flowhouse.${LATE}`, `flowhouse.${PROBE}`, `flowhouse.${LIMITED}`]
const N = 30_000
const CLICKHOUSE_URL = process.env.CLICKHOUSE_TEST_URL || 'http://127.0.0.1:8123'

const moduleText = `
import { Constraint, IngestPipeline, Key, MaterializedView, OlapTable, Stream, t } from 'flowhouse'

export const Flight = t.Object({
  id: Key(t.String()),
  date: t.DateTime(),
  delay: t.Int32(),
  distance: t.UInt32(),
  origin: t.String({ pattern: '^[A-Z0-9]{3}$' }),
  destination: t.String({ pattern: '^[A-Z0-9]{3}$' }),
})
export const Enriched = t.Object({ ...Flight.properties, delayed: t.Boolean(), route: t.String() })

export const flights = new IngestPipeline('${NAME}', { schema: Flight, stream: { parallelism: 2 }, table: false })
export const stored = new OlapTable('${NAME}', Enriched, { orderByFields: ['id'] })
flights.stream.addTransform(stored, (f) => [{ ...f, delayed: f.delay > 15, route: f.origin + '-' + f.destination }])

// Flights more than three hours late go on to a stream of their own (records produced).
export const lateTable = new OlapTable('${LATE}', Flight, { orderByFields: ['id'] })
export const late = new Stream('${LATE}', Flight, { destination: lateTable })
flights.stream.addTransform(late, (f) => (f.delay > 180 ? [f] : null))

export const daily = new MaterializedView({
  name: '${NAME}_daily_mv',
  source: stored,
  select: 'SELECT origin, toDate(date) AS day, count() AS flights, sum(delay) AS total_delay FROM ${NAME} GROUP BY origin, day',
  target: { name: '${NAME}_daily', engine: 'SummingMergeTree', orderByFields: ['origin', 'day'] },
})

// Refreshed on demand only, acceptable while stale for 1 s: stale past its grace after the replay.
export const routes = new MaterializedView({
  name: '${NAME}_routes_mv',
  source: stored,
  select: 'SELECT route, count() AS flights FROM ${NAME} GROUP BY route',
  target: { name: '${NAME}_routes', orderByFields: ['route'] },
  refresh: { mode: 'manual', gracePeriod: 1 },
})

// Probes for the error paths and the constraints.
const Note = t.Object({ id: Key(t.String()), note: t.String() })
export const probe = new IngestPipeline('${PROBE}', { schema: Note, table: { orderByFields: ['id'] } })
export const limited = new IngestPipeline('${LIMITED}', {
  schema: Note,
  table: { orderByFields: ['id'] },
  constraints: [
    new Constraint({ name: 'probe_rate', type: 'rate', config: { max_events_per_second: 20 } }),
    new Constraint({ name: 'note_size', type: 'validation', config: { rules: { note: { max_size: 50 } } } }),
    new Constraint({ name: 'no_spam', type: 'validation', action: 'drop', config: { rules: { note: { pattern: '^(?!spam)' } } } }),
  ],
})
`

let daemon: DaemonProcess
let prometheus: PrometheusServer | undefined
let dir: string
/** /metrics texts of the running daemons, taken after each scenario. */
const scraped: string[] = []

before(async () => {
  await resetKafka(TOPICS, GROUPS)
  dir = await tempDir('ops')
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(path.join(dir, 'pipelines', 'ops.ts'), moduleText)
  daemon = await startDaemon({
    pipelinesDir: path.join(dir, 'pipelines'),
    dataDir: path.join(dir, 'data'),
    env: { FLOWHOUSE_BATCH_FLUSH_MS: '300', FLOWHOUSE_METRICS_INTERVAL_MS: '1000', FLOWHOUSE_MV_STATUS_INTERVAL_MS: '1000' },
  })
  prometheus = await startPrometheus([new URL(daemon.url).host], [ALERTS_FILE])
})

after(async () => {
  await prometheus?.stop()
  await daemon?.kill('SIGTERM')
  if (dir) await removeDir(dir)
  await resetKafka(TOPICS, GROUPS).catch(() => undefined)
})

test('a real Prometheus scrapes the daemon during a replay of real flights and sees a written-records rate above zero', { timeout: 300_000 }, async () => {
  const replay = runReplay([FLIGHTS_PARQUET, '--pipeline', NAME, '--limit', String(N), '--batch', '1000', '--rate', '5000'])
  const rate = `sum(rate(flowhouse_records_written_total{pipeline="${NAME}",table="${NAME}"}[10s]))`
  await waitFor(async () => {
    const [sample] = await prometheus!.query(rate)
    return sample && Number(sample.value[1]) > 0 ? Number(sample.value[1]) : undefined
  }, { timeoutMs: 120_000, intervalMs: 500, what: `${rate} > 0` })
  const { code, output } = await replay.done
  assert.equal(code, 0, output)
  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_records_written_total', { pipeline: NAME, table: NAME })) === N, { timeoutMs: 120_000, what: `${N} rows written` })
  const [stored] = await sql<{ n: string; ids: string }>(daemon.url, `SELECT count() AS n, uniqExact(id) AS ids FROM ${NAME}`)
  assert.deepEqual([Number(stored!.n), Number(stored!.ids)], [N, N], 'every flight once: count() = uniqExact(id) = N')

  // The late flights went on to their own stream and table; the parquet file says how many.
  const [truthLate] = await truth<{ n: number }>(`SELECT countIf(delay > 180) AS n FROM ${flightsSource(N)}`)
  const lateRows = Number(truthLate!.n)
  assert.ok(lateRows > 0)
  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_records_produced_total', { pipeline: NAME, topic: LATE })) === lateRows, { what: 'late flights produced' })
  await waitFor(async () => Number((await sql<{ n: string }>(daemon.url, `SELECT count() AS n FROM ${LATE}`))[0]!.n) >= lateRows, { what: 'late flights written to their table' })
  const [lateStored] = await sql<{ n: string; ids: string; total: string }>(daemon.url, `SELECT count() AS n, uniqExact(id) AS ids, sum(delay) AS total FROM ${LATE}`)
  const [lateTruth] = await truth<{ total: number }>(`SELECT sum(delay) AS total FROM ${flightsSource(N)} WHERE delay > 180`)
  assert.deepEqual([Number(lateStored!.n), Number(lateStored!.ids), Number(lateStored!.total)], [lateRows, lateRows, Number(lateTruth!.total)], 'the late stream\'s table holds each late flight once')
  // The streaming view over the stored flights equals the same aggregate over the parquet file.
  const daily = await sql<{ origin: string; day: string; flights: string; total_delay: string }>(daemon.url, `SELECT origin, toString(day) AS day, sum(flights) AS flights, sum(total_delay) AS total_delay FROM ${NAME}_daily GROUP BY origin, day ORDER BY origin, day`)
  const dailyTruth = await truth<{ origin: string; day: string; flights: number; total_delay: number }>(`SELECT origin, toString(toDate(date)) AS day, count() AS flights, sum(delay) AS total_delay FROM ${flightsSource(N)} GROUP BY origin, day ORDER BY origin, day`)
  assert.ok(dailyTruth.length > 100)
  assert.deepEqual(daily.map((r) => [r.origin, r.day, Number(r.flights), Number(r.total_delay)]), dailyTruth.map((r) => [r.origin, r.day, Number(r.flights), Number(r.total_delay)]), `${NAME}_daily equals the aggregate over the parquet file`)

  // Lag: the gauges follow the broker's high watermarks and the group's commits, per partition.
  const admin = kafka().admin()
  await admin.connect()
  try {
    const high = await admin.fetchTopicOffsets(NAME)
    assert.equal(high.length, 2)
    for (const p of high) {
      const labels = { pipeline: NAME, topic: NAME, partition: String(p.partition) }
      await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_topic_high_watermark', labels)) === Number(p.high) && (await metricValue(daemon.url, 'flowhouse_consumer_committed_offset', labels)) === Number(p.high), { what: `lag gauges of partition ${p.partition} to catch up` })
      assert.equal(await metricValue(daemon.url, 'flowhouse_consumer_lag_messages', labels), 0)
    }
    const [committed] = await admin.fetchOffsets({ groupId: `flowhouse.${NAME}`, topics: [NAME] })
    assert.deepEqual(committed!.partitions.map((p) => [p.partition, p.offset]).sort(), high.map((p) => [p.partition, p.high]).sort())
  } finally {
    await admin.disconnect()
  }

  // The manual view is stale past its 1 s grace: the alert goes pending; a refresh makes it fresh.
  const view = `${NAME}_routes_mv`
  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_mv_staleness_seconds', { view })) > 1 && (await metricValue(daemon.url, 'flowhouse_mv_grace_period_seconds', { view })) === 1, { what: 'the manual view stale past its grace' })
  const alert = await waitFor(async () => {
    const { alerts } = await prometheus!.api<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>('/api/v1/alerts')
    return alerts.find((a) => a.labels.alertname === 'FlowhouseMaterializedViewStale' && a.labels.view === view)
  }, { timeoutMs: 30_000, what: 'FlowhouseMaterializedViewStale to be pending' })
  assert.ok(['pending', 'firing'].includes(alert.state))
  const refreshed = await fetch(`${daemon.url}/api/mv/${view}/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  assert.equal(refreshed.status, 200, await refreshed.text())
  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_mv_refresh_duration_seconds_count', { view })) >= 1 && (await metricValue(daemon.url, 'flowhouse_mv_staleness_seconds', { view })) === 0, { what: 'a refresh recorded and the view fresh' })

  // Prometheus sees the same numbers and the readiness gauge.
  await waitFor(async () => Number((await prometheus!.query(`sum(flowhouse_records_written_total{pipeline="${NAME}",table="${NAME}"})`))[0]?.value[1]) === N, { what: 'Prometheus to scrape the final count' })
  const ready = await prometheus!.query('min(flowhouse_ready)')
  assert.equal(ready[0]?.value[1], '1')
})

test('bad messages, a row ClickHouse refuses, constraint violations and an ingest request show up in the DLQ-by-stage, insert-error, constraint and ingest metrics', { timeout: 120_000 }, async () => {
  const producer = kafka().producer()
  await producer.connect()
  try {
    // p2's note is a lone UTF-16 surrogate: valid JSON and a valid string, but ClickHouse cannot store it (code 25).
    await producer.send({ topic: PROBE, acks: -1, messages: [{ value: JSON.stringify([{ id: 'p1', note: 'ok' }, { id: 'p2', note: '\ud800' }, { id: 'p3', note: 5 }]) }, { value: 'not json' }] })
    const burst = Array.from({ length: 60 }, (_, i) => ({ id: `l${i}`, note: 'ok' }))
    await producer.send({ topic: LIMITED, acks: -1, messages: [{ value: JSON.stringify([...burst, { id: 'long', note: 'x'.repeat(100) }, { id: 'spam', note: 'spam!' }]) }] })
  } finally {
    await producer.disconnect()
  }
  const res = await fetch(`${daemon.url}/ingest/${PROBE}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ id: 'p4', note: 'ok' }]) })
  assert.equal(res.status, 200)
  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_records_written_total', { pipeline: PROBE, table: PROBE })) === 2, { what: 'p1 and p4 written' })
  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: PROBE })) === 3, { what: 'three records dead-lettered' })
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: PROBE, stage: 'insert' }), 1)
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: PROBE, stage: 'validation' }), 1)
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: PROBE, stage: 'decode' }), 1)
  assert.ok((await metricValue(daemon.url, 'flowhouse_clickhouse_insert_errors_total', { table: PROBE })) >= 1)
  assert.equal(await metricValue(daemon.url, 'flowhouse_ingest_requests_total', { pipeline: PROBE, code: '200' }), 1)
  assert.deepEqual((await sql<{ id: string }>(daemon.url, `SELECT id FROM ${PROBE} ORDER BY id`)).map((r) => r.id), ['p1', 'p4'])

  // 60 records at 20/s are throttled, not dropped; the long note violates note_size and is
  // dead-lettered; the spam note is dropped by no_spam.
  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_records_written_total', { pipeline: LIMITED })) === 60, { timeoutMs: 60_000, what: '60 throttled records written' })
  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: LIMITED, stage: 'constraint' })) === 1, { what: 'the long note dead-lettered' })
  assert.equal(await metricValue(daemon.url, 'flowhouse_constraint_violations_total', { pipeline: LIMITED, constraint: 'note_size', type: 'validation', action: 'dead_letter' }), 1)
  assert.ok((await metricValue(daemon.url, 'flowhouse_constraint_throttle_seconds_total', { pipeline: LIMITED, constraint: 'probe_rate' })) > 0)
  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_records_dropped_total', { pipeline: LIMITED, constraint: 'no_spam' })) === 1, { what: 'the spam note dropped' })
  assert.ok((await metricValue(daemon.url, 'flowhouse_constraint_checks_total', { pipeline: LIMITED })) >= 62)
  scraped.push(await (await fetch(`${daemon.url}/metrics`)).text())
})

test('every dashboard query and alert rule runs on Prometheus without error against the scraped daemon', { timeout: 60_000 }, async () => {
  const failures: string[] = []
  for (const q of [...(await dashboardQueries()), ...(await alertQueries())]) {
    if (q.kind !== 'promql') continue
    await prometheus!.query(substituteGrafanaVariables(q.expr, { pipeline: NAME, table: NAME })).catch((e: Error) => failures.push(`${q.source}: ${e.message}`))
  }
  assert.deepEqual(failures, [])
  // The alert rules were loaded from grafana/alerts.yml and evaluate cleanly on real series.
  const rules = await waitFor(async () => {
    const data = await prometheus!.api<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>('/api/v1/rules')
    const all = data.groups.flatMap((g) => g.rules)
    return all.length > 0 && all.every((r) => r.health === 'ok') ? all : undefined
  }, { timeoutMs: 20_000, what: 'alert rules evaluated with health ok' })
  assert.equal(rules.length, (await alertQueries()).length)
})

function services(action: 'up' | 'down'): Promise<unknown> {
  return run('bash', [path.join(ROOT, 'scripts/services.sh'), action, 'clickhouse'], { cwd: ROOT, timeout: 120_000 })
}

interface ReadyBody {
  ready: boolean
  checks: Record<string, { ok: boolean; detail?: unknown }>
}

async function readiness(url: string): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${url}/ready`)
  return { status: res.status, body: (await res.json()) as ReadyBody }
}

test('/ready turns 503 when the ClickHouse server stops, reports the partition waiting on retried inserts past the threshold, and turns 200 again with no row lost when it starts', { timeout: 420_000 }, async () => {
  const name = `opsrv_${hex}`
  await services('up') // idempotent: another test may have left it stopped
  await resetKafka([name, `${name}.dlq`], [`flowhouse.${name}`])
  const pipelines = path.join(dir, 'server-pipelines')
  await mkdir(pipelines)
  await writeFile(path.join(pipelines, 'srv.ts'), `
import { IngestPipeline, Key, t } from 'flowhouse'
export const flights = new IngestPipeline('${name}', {
  schema: t.Object({ id: Key(t.String()), delay: t.Int32(), distance: t.UInt32(), origin: t.String(), destination: t.String() }),
  stream: { parallelism: 1 },
  table: { orderByFields: ['id'] },
})
`)
  const server = await startDaemon({
    pipelinesDir: pipelines,
    dataDir: path.join(dir, 'server-data'),
    env: { CLICKHOUSE_URL, FLOWHOUSE_BATCH_FLUSH_MS: '300', FLOWHOUSE_METRICS_INTERVAL_MS: '1000', FLOWHOUSE_READY_PAUSE_THRESHOLD_MS: '3000' },
  })
  let down = false
  const withLog = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- daemon output ---\n${server.output().slice(-3000)}`)
    }
  }
  try {
    assert.equal((await readiness(server.url)).status, 200)
    let r = await runReplay([FLIGHTS_PARQUET, '--pipeline', name, '--limit', '2000', '--batch', '500']).done
    assert.equal(r.code, 0, r.output)
    await waitFor(async () => (await metricValue(server.url, 'flowhouse_records_written_total', { pipeline: name })) === 2000, { what: '2,000 rows before the outage' })

    down = true
    await services('down')
    const outage = await waitFor(async () => {
      const got = await readiness(server.url)
      return got.status === 503 && !got.body.checks.clickhouse!.ok ? got : undefined
    }, { timeoutMs: 30_000, what: '/ready to answer 503 with the clickhouse check failing' })
    assert.equal(outage.body.ready, false)
    assert.equal(outage.body.checks.kafka!.ok, true)
    assert.equal(await metricValue(server.url, 'flowhouse_ready', { check: 'clickhouse' }), 0)
    assert.equal(await metricValue(server.url, 'flowhouse_ready', { check: 'kafka' }), 1)

    // Rows arriving during the outage wait in their partition: retries, a pause, and lag.
    r = await runReplay([FLIGHTS_PARQUET, '--pipeline', name, '--skip', '2000', '--limit', '3000', '--batch', '500']).done
    assert.equal(r.code, 0, r.output)
    const paused = await withLog(() => waitFor(async () => {
      const got = await readiness(server.url)
      return !got.body.checks.partitions!.ok ? got.body.checks.partitions!.detail as { thresholdMs: number; waiting: Array<{ pipeline: string; table: string; token: string; pausedMs: number; attempts: number }> } : undefined
    }, { timeoutMs: 60_000, what: 'the partitions check to fail after 3 s of retries' }))
    assert.equal(paused.thresholdMs, 3000)
    assert.equal(paused.waiting[0]!.pipeline, name)
    assert.match(paused.waiting[0]!.token, new RegExp(`^${name}:${name}:0:\\d+-\\d+$`))
    assert.ok(paused.waiting[0]!.pausedMs > 3000 && paused.waiting[0]!.attempts >= 1)
    assert.equal(await metricValue(server.url, 'flowhouse_paused_partitions', { pipeline: name }), 1)
    assert.ok((await metricValue(server.url, 'flowhouse_clickhouse_insert_retries_total', { table: name })) >= 1)
    await waitFor(async () => (await metricValue(server.url, 'flowhouse_ready', { check: 'partitions' })) === 0, { timeoutMs: 10_000, what: 'flowhouse_ready{check="partitions"} 0' })
    await waitFor(async () => (await metricValue(server.url, 'flowhouse_consumer_lag_messages', { pipeline: name })) > 0, { timeoutMs: 15_000, what: 'lag above zero during the outage' })
    scraped.push(await (await fetch(`${server.url}/metrics`)).text())
  } finally {
    if (down) await services('up')
  }
  try {
    const back = await waitFor(async () => {
      const got = await readiness(server.url)
      return got.status === 200 ? got : undefined
    }, { timeoutMs: 120_000, intervalMs: 500, what: '/ready to answer 200 after ClickHouse is back' })
    assert.equal(back.body.ready, true)
    assert.deepEqual(Object.keys(back.body.checks).sort(), ['clickhouse', 'consumers', 'kafka', 'modules', 'partitions'])
    await waitFor(async () => (await metricValue(server.url, 'flowhouse_records_written_total', { pipeline: name })) === 5000, { timeoutMs: 60_000, what: 'all 5,000 rows written' })
    const [rows] = await sql<{ n: string; ids: string }>(server.url, `SELECT count() AS n, uniqExact(id) AS ids FROM ${name}`)
    // While stopped the server refuses connections, so no retried insert had landed: nothing twice.
    assert.deepEqual([Number(rows!.n), Number(rows!.ids)], [5000, 5000], 'count() = uniqExact(id) = 5,000')
    assert.equal(await metricValue(server.url, 'flowhouse_paused_partitions', { pipeline: name }), 0)
    await waitFor(async () => (await metricValue(server.url, 'flowhouse_consumer_lag_messages', { pipeline: name })) === 0, { timeoutMs: 15_000, what: 'lag back to zero' })
    for (const check of ['kafka', 'clickhouse', 'consumers', 'modules', 'partitions']) assert.equal(await metricValue(server.url, 'flowhouse_ready', { check }), 1, check)
  } finally {
    await server.kill('SIGTERM')
    await resetKafka([name, `${name}.dlq`], [`flowhouse.${name}`]).catch(() => undefined)
  }
})

/** Names of the samples in a Prometheus text exposition. */
function sampleNames(text: string): Set<string> {
  const names = new Set<string>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    names.add(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0])
  }
  return names
}

test('every metric name used in the dashboards and alert rules has samples on /metrics of the running daemons', async () => {
  assert.equal(scraped.length, 2, 'the scenarios above ran')
  const exported = new Set(scraped.flatMap((t) => [...sampleNames(t)]))
  const missing = new Set<string>()
  for (const q of [...(await dashboardQueries()), ...(await alertQueries())]) {
    for (const name of queryMetricNames(q)) {
      if (!PROMETHEUS_SERIES.has(name) && !exported.has(name)) missing.add(`${name} (${q.source})`)
    }
  }
  assert.deepEqual([...missing].sort(), [])
})
