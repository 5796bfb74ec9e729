/**
 * Server mode: the same flow (real flights → Kafka → daemon → ClickHouse table and view), with
 * CLICKHOUSE_URL pointing at the real ClickHouse server (Debian's clickhouse-server) over HTTP.
 * The Debian server is old, so the pipeline keeps to plain types.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { FLIGHTS_PARQUET, flightsSource, metricValue, removeDir, runReplay, sql, startDaemon, tempDir, truth, waitFor, type DaemonProcess } from './helpers.ts'

const CLICKHOUSE_URL = process.env.CLICKHOUSE_TEST_URL || 'http://127.0.0.1:8123'
const name = `srv_${randomBytes(4).toString('hex')}`
const N = 20_000
let daemon: DaemonProcess
let dir: string

const moduleText = `
import { IngestPipeline, Key, MaterializedView, t } from 'flowhouse'

export const Flight = t.Object({
  id: Key(t.String()),
  delay: t.Int32(),
  distance: t.UInt32(),
  origin: t.String(),
  destination: t.String(),
})

export const flights = new IngestPipeline('${name}', {
  schema: Flight,
  stream: { parallelism: 2 },
  table: { orderByFields: ['id'] },
})

export const byOrigin = new MaterializedView({
  name: '${name}_by_origin_mv',
  source: flights.table,
  select: 'SELECT origin, count() AS flights, sum(delay) AS total_delay FROM ${name} GROUP BY origin',
  target: {
    name: '${name}_by_origin',
    engine: 'SummingMergeTree',
    orderByFields: ['origin'],
    columns: [{ name: 'origin', type: 'String' }, { name: 'flights', type: 'UInt64' }, { name: 'total_delay', type: 'Int64' }],
  },
})
`

before(async () => {
  dir = await tempDir('server-mode')
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(path.join(dir, 'pipelines', 'flights_srv.ts'), moduleText)
  daemon = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data'), env: { CLICKHOUSE_URL, FLOWHOUSE_BATCH_FLUSH_MS: '300' } })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dir) await removeDir(dir)
})

test('the daemon logs at start-up the delivery guarantee the server version gives: at-least-once before ClickHouse 22.2', async () => {
  const [{ v }] = (await sql<{ v: string }>(daemon.url, 'SELECT version() AS v')) as [{ v: string }]
  const [major, minor] = v.split('.').map(Number) as [number, number]
  const expected = major > 22 || (major === 22 && minor >= 2) ? 'exactly-once' : 'at-least-once'
  const line = daemon
    .output()
    .split('\n')
    .filter((l) => l.includes('delivery guarantee in force'))
    .map((l) => JSON.parse(l) as { mode: string; version: string; guarantee: string })
  assert.deepEqual(line.map((l) => [l.mode, l.version, l.guarantee]), [['server', v, expected]])
})

test('real flights flow through Kafka into a table and a view on the ClickHouse server over HTTP', { timeout: 300_000 }, async () => {
  const ready = (await (await fetch(`${daemon.url}/ready`)).json()) as { checks: Record<string, { ok: boolean }> }
  assert.equal(ready.checks.clickhouse!.ok, true)

  const { code, output } = await runReplay([FLIGHTS_PARQUET, '--pipeline', name, '--limit', String(N)]).done
  assert.equal(code, 0, output)
  await waitFor(async () => Number((await sql<{ n: string }>(daemon.url, `SELECT count() AS n FROM ${name}`))[0]!.n) >= N, {
    timeoutMs: 120_000,
    what: `${N} rows on the server`,
  })

  const got = await sql<{ origin: string; flights: string; total_delay: string }>(
    daemon.url,
    `SELECT origin, sum(flights) AS flights, sum(total_delay) AS total_delay FROM ${name}_by_origin GROUP BY origin ORDER BY origin`,
  )
  const expected = await truth<{ origin: string; flights: number; total_delay: number }>(
    `SELECT origin, count() AS flights, sum(delay) AS total_delay FROM ${flightsSource(N)} GROUP BY origin ORDER BY origin`,
  )
  assert.deepEqual(
    got.map((r) => [r.origin, Number(r.flights), Number(r.total_delay)]),
    expected.map((r) => [r.origin, Number(r.flights), Number(r.total_delay)]),
  )
  const [table] = await sql<{ n: string; ids: string }>(daemon.url, `SELECT count() AS n, uniqExact(id) AS ids FROM ${name}`)
  assert.equal(Number(table!.n), N)
  assert.equal(Number(table!.ids), N)
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_written_total', { pipeline: name, table: name }), N)
})
