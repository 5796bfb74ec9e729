/**
 * End to end on real data: 200,000 real flights replayed from the parquet file through the real
 * broker into the embedded ClickHouse; the materialized views must equal what ClickHouse
 * computes directly over the same rows of the parquet file.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { assertFlightsMatchParquet } from './flights-truth.ts'
import { FLIGHTS_PARQUET, ROOT, metricValue, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, waitFor, type DaemonProcess } from './helpers.ts'

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

  await assertFlightsMatchParquet(daemon.url, N)

  // Every consumed record is accounted for: written, dead-lettered or filtered.
  const consumed = await metricValue(daemon.url, 'flowhouse_records_consumed_total', { pipeline: 'flights' })
  const written = await metricValue(daemon.url, 'flowhouse_records_written_total', { pipeline: 'flights', table: 'flights' })
  const dlq = await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: 'flights' })
  const filtered = await metricValue(daemon.url, 'flowhouse_records_filtered_total', { pipeline: 'flights' })
  assert.equal(consumed, N)
  assert.equal(written, N)
  assert.equal(dlq + filtered, 0)
})
