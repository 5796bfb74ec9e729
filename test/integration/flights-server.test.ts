/**
 * The example pipeline (pipelines/flights.ts) on Debian's clickhouse-server 18.16 in server mode.
 * That server has no DateTime64 and no Bool: provisioning stores `date` as DateTime('UTC') and
 * `delayed` as UInt8 with a warning per column, and the table and both views still equal
 * ClickHouse's own aggregates over the same parquet rows.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { after, test } from 'node:test'
import { assertFlightsMatchParquet } from './flights-truth.ts'
import { FLIGHTS_PARQUET, ROOT, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, waitFor, type DaemonProcess } from './helpers.ts'

const CLICKHOUSE_URL = process.env.CLICKHOUSE_TEST_URL || 'http://127.0.0.1:8123'
const DATABASE = `fh_flights_${randomBytes(4).toString('hex')}`
const N = 30_000
let daemon: DaemonProcess | undefined
let dataDir: string

after(async () => {
  await daemon?.kill('SIGTERM')
  await fetch(CLICKHOUSE_URL, { method: 'POST', body: `DROP DATABASE IF EXISTS ${DATABASE}` }).catch(() => undefined)
  if (dataDir) await removeDir(dataDir)
})

test('the flights pipeline runs on clickhouse-server 18.16 with DateTime and UInt8 in place of DateTime64 and Bool, and matches the parquet file', { timeout: 600_000 }, async () => {
  const version = await (await fetch(CLICKHOUSE_URL, { method: 'POST', body: 'SELECT version()' })).text()
  await resetKafka(['flights', 'flights.dlq'], ['flowhouse.flights'])
  dataDir = await tempDir('flights-server')
  daemon = await startDaemon({
    pipelinesDir: path.join(ROOT, 'pipelines'),
    dataDir,
    env: { CLICKHOUSE_URL, CLICKHOUSE_DATABASE: DATABASE, FLOWHOUSE_BATCH_FLUSH_MS: '300' },
  })
  const out = daemon.output()
  const describe = (await (await fetch(`${daemon.url}/api/pipelines`)).json()) as { pipelines: Array<{ name: string }> }
  assert.deepEqual(describe.pipelines.map((p) => p.name), ['flights'], 'the flights pipeline is running')
  if (version.trim().startsWith('18.')) {
    assert.match(out, /lacks the type of column \\"date\\": stored as DateTime\('UTC'\) instead of DateTime64\(3, 'UTC'\)/)
    assert.match(out, /lacks the type of column \\"delayed\\": stored as UInt8 instead of Bool/)
    const described = await (await fetch(CLICKHOUSE_URL, { method: 'POST', body: `DESCRIBE TABLE ${DATABASE}.flights FORMAT TabSeparatedRaw` })).text()
    const columns = described.trim().split('\n').map((line) => line.split('\t').slice(0, 2).join(' '))
    assert.deepEqual(columns, ['id String', "date DateTime('UTC')", 'delay Int32', 'distance UInt32', 'origin String', 'destination String', 'delayed UInt8', 'route String'])
  }

  const replay = runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--limit', String(N)])
  const { code, output } = await replay.done
  assert.equal(code, 0, output)
  await waitFor(async () => Number((await sql<{ n: string }>(daemon!.url, 'SELECT count() AS n FROM flights'))[0]!.n) >= N, { timeoutMs: 180_000, what: `${N} flights in the server` })
  await new Promise((r) => setTimeout(r, 1_000))
  await assertFlightsMatchParquet(daemon.url, N)
})
