/**
 * Crash safety: the daemon is killed with SIGKILL in the middle of a replay and started again
 * on the same data. The table and both views must still hold every flight exactly once.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, test } from 'node:test'
import { assertFlightsMatchParquet } from './flights-truth.ts'
import { FLIGHTS_PARQUET, ROOT, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, waitFor, type DaemonProcess } from './helpers.ts'

const N = 300_000
let daemon: DaemonProcess | undefined
let dataDir: string

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dataDir) await removeDir(dataDir)
})

const count = async (url: string) => Number((await sql<{ n: string }>(url, 'SELECT count() AS n FROM flights'))[0]!.n)

test('a daemon killed with SIGKILL mid-replay and restarted ends with every flight exactly once in the table and the views', { timeout: 900_000 }, async () => {
  await resetKafka(['flights', 'flights.dlq'], ['flowhouse.flights'])
  dataDir = await tempDir('restart')
  // Small batches so that many batches are in flight around the kill.
  const env = { FLOWHOUSE_BATCH_MAX_ROWS: '15000', FLOWHOUSE_BATCH_FLUSH_MS: '300' }
  const pipelinesDir = path.join(ROOT, 'pipelines')
  daemon = await startDaemon({ pipelinesDir, dataDir, env })
  const replay = runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--limit', String(N), '--rate', '60000'])

  const before = await waitFor(async () => {
    const n = await count(daemon!.url)
    return n >= 60_000 ? n : undefined
  }, { timeoutMs: 300_000, intervalMs: 50, what: 'a first part of the flights to be written' })
  await daemon.kill('SIGKILL')
  assert.ok(before < N, `killed mid-replay (${before} of ${N} written)`)

  daemon = await startDaemon({ pipelinesDir, dataDir, env })
  const { code, output } = await replay.done
  assert.equal(code, 0, output)
  await waitFor(async () => (await count(daemon!.url)) >= N, { timeoutMs: 300_000, what: `${N} rows after the restart` })
  // Let any late duplicate surface before judging.
  await new Promise((r) => setTimeout(r, 2_000))
  await assertFlightsMatchParquet(daemon.url, N)
})
