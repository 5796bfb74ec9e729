/**
 * Clean shutdown: SIGTERM in the middle of a stream drains, flushes, commits, leaves the group
 * and exits 0, every time. Twenty daemons in a row on the same data folder each consume part of
 * a replay and are stopped with SIGTERM while messages are still arriving; at the end the table
 * and both views hold every flight exactly once (ground truth: the parquet file).
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, test } from 'node:test'
import { assertFlightsMatchParquet } from './flights-truth.ts'
import { FLIGHTS_PARQUET, ROOT, kafka, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, waitFor, type DaemonProcess } from './helpers.ts'

const RUNS = 20
/** Flights replayed while each daemon runs. */
const SLICE = 10_000
const GROUP = 'flowhouse.flights'
let daemon: DaemonProcess | undefined
let dataDir: string

after(async () => {
  await daemon?.kill('SIGKILL')
  if (dataDir) await removeDir(dataDir)
})

const count = async (url: string) => Number((await sql<{ n: string }>(url, 'SELECT count() AS n FROM flights'))[0]!.n)

async function groupState(): Promise<{ state: string; members: number }> {
  const admin = kafka().admin()
  await admin.connect()
  try {
    const { groups } = await admin.describeGroups([GROUP])
    return { state: groups[0]!.state, members: groups[0]!.members.length }
  } finally {
    await admin.disconnect()
  }
}

test(`${RUNS} daemons stopped with SIGTERM mid-stream each exit 0 and leave the group, and every flight ends written exactly once`, { timeout: 900_000 }, async () => {
  await resetKafka(['flights', 'flights.dlq'], [GROUP])
  dataDir = await tempDir('shutdown')
  const pipelinesDir = path.join(ROOT, 'pipelines')
  const env = { FLOWHOUSE_BATCH_MAX_ROWS: '3000', FLOWHOUSE_BATCH_FLUSH_MS: '300' }
  const exits: string[] = []
  for (let i = 0; i < RUNS; i++) {
    daemon = await startDaemon({ pipelinesDir, dataDir, env })
    const replay = runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--skip', String(i * SLICE), '--limit', String(SLICE), '--rate', String(SLICE / 2)])
    // Stop it once it has written into this run's slice, while the rest of the slice still arrives.
    await waitFor(async () => (await count(daemon!.url)) > i * SLICE + SLICE / 4, { timeoutMs: 120_000, intervalMs: 100, what: `run ${i} to write part of its slice` })
    await daemon.kill('SIGTERM')
    const { exitCode, signalCode } = daemon.child
    exits.push(`${exitCode ?? signalCode}`)
    assert.equal(signalCode, null, `run ${i} was ended by ${signalCode}\n${daemon.output().slice(-3000)}`)
    assert.equal(exitCode, 0, `run ${i} exit code\n${daemon.output().slice(-3000)}`)
    assert.match(daemon.output(), /"msg":"stopped"/, `run ${i} logged its stop`)
    // Left the group: no member is waiting for its session to expire.
    assert.deepEqual(await groupState(), { state: 'Empty', members: 0 }, `run ${i} left the consumer group`)
    const { code, output } = await replay.done
    assert.equal(code, 0, output)
  }
  assert.deepEqual(exits, Array(RUNS).fill('0'))

  daemon = await startDaemon({ pipelinesDir, dataDir, env })
  await waitFor(async () => (await count(daemon!.url)) >= RUNS * SLICE, { timeoutMs: 120_000, what: `${RUNS * SLICE} rows` })
  await new Promise((r) => setTimeout(r, 2_000))
  await assertFlightsMatchParquet(daemon.url, RUNS * SLICE)
  await daemon.kill('SIGTERM')
  assert.equal(daemon.child.exitCode, 0)
})
