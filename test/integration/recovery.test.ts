/**
 * Fast recovery: a daemon killed with SIGKILL mid-stream and started again commits new offsets
 * within 15 s of the kill. The dead member never leaves the group, so the wait is bounded by
 * the session timeout (FLOWHOUSE_KAFKA_SESSION_TIMEOUT_MS, default 10 s); the data stays exact.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, test } from 'node:test'
import { assertFlightsMatchParquet } from './flights-truth.ts'
import { FLIGHTS_PARQUET, ROOT, kafka, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, waitFor, type DaemonProcess } from './helpers.ts'

const N = 120_000
const GROUP = 'flowhouse.flights'
let daemon: DaemonProcess | undefined
let dataDir: string

after(async () => {
  await daemon?.kill('SIGKILL')
  if (dataDir) await removeDir(dataDir)
})

const count = async (url: string) => Number((await sql<{ n: string }>(url, 'SELECT count() AS n FROM flights'))[0]!.n)

/** Sum of the group's committed offsets on `flights` (a partition without a commit counts 0). */
async function committed(): Promise<number> {
  const admin = kafka().admin()
  await admin.connect()
  try {
    const [topic] = await admin.fetchOffsets({ groupId: GROUP, topics: ['flights'] })
    return (topic?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0)
  } finally {
    await admin.disconnect()
  }
}

test('a daemon killed with SIGKILL mid-stream and restarted commits again within 15 s of the kill, and every flight is written once', { timeout: 600_000 }, async () => {
  await resetKafka(['flights', 'flights.dlq'], [GROUP])
  dataDir = await tempDir('recovery')
  const pipelinesDir = path.join(ROOT, 'pipelines')
  const env = { FLOWHOUSE_BATCH_MAX_ROWS: '5000', FLOWHOUSE_BATCH_FLUSH_MS: '300' }
  daemon = await startDaemon({ pipelinesDir, dataDir, env })
  const replay = runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--limit', String(N), '--rate', '4000'])
  await waitFor(async () => (await count(daemon!.url)) >= 20_000, { timeoutMs: 120_000, intervalMs: 100, what: 'a first part of the flights to be written' })
  await daemon.kill('SIGKILL')
  const killedAt = Date.now()
  const before = await committed()

  daemon = await startDaemon({ pipelinesDir, dataDir, env, waitReady: false })
  const restartedMs = Date.now() - killedAt
  await waitFor(async () => (await committed()) > before, { timeoutMs: 60_000, intervalMs: 100, what: 'a new commit after the restart' })
  const recoveryMs = Date.now() - killedAt
  console.log(`recovery: restarted ${restartedMs} ms after the kill, first new commit ${recoveryMs} ms after the kill`)
  assert.ok(recoveryMs < 15_000, `first new commit ${recoveryMs} ms after the kill (limit 15 s)`)

  const { code, output } = await replay.done
  assert.equal(code, 0, output)
  await waitFor(async () => (await count(daemon!.url)) >= N, { timeoutMs: 120_000, what: `${N} rows after the restart` })
  await new Promise((r) => setTimeout(r, 2_000))
  await assertFlightsMatchParquet(daemon.url, N)
})
