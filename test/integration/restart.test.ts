/**
 * Crash safety under load: the daemon is killed with SIGKILL at an arbitrary moment of a replay
 * and started again on the same data. The table and both views must still hold every flight
 * exactly once. Where the kill lands is left to chance here; the moments where a duplicate or a
 * loss is possible (between the pending mark, the inserts, the dead-letter entries and the final
 * commit) are each hit on purpose by failpoints/delivery.test.ts.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, test } from 'node:test'
import { groupCaughtUp } from './failpoints/helpers.ts'
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
  // Judge once the group committed the end of the topic: nothing is left to be written again.
  await waitFor(() => groupCaughtUp('flowhouse.flights', 'flights'), { timeoutMs: 120_000, what: 'the group to commit the end of the topic' })
  await assertFlightsMatchParquet(daemon.url, N)
})
