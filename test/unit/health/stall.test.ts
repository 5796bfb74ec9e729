import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PauseRegistry } from '../../../src/health/pauses.ts'
import { pausedPartitionsCheck } from '../../../src/health/readiness.ts'
import { StallDetector, type PartitionProgress } from '../../../src/health/stall.ts'
import { registry } from '../../../src/metrics/metrics.ts'

const part = (partition: number, committed: number | null, high: number, low = 0): PartitionProgress => ({
  pipeline: 'flights',
  topic: 'flights',
  partition,
  committed,
  lowWatermark: low,
  highWatermark: high,
  lag: high - (committed ?? low),
})

async function gauge(partition: number): Promise<number | undefined> {
  const m = (await registry.getSingleMetric('flowhouse_partition_stalled')!.get()).values
  return m.find((v) => v.labels.pipeline === 'flights' && v.labels.partition === String(partition))?.value
}

test('a partition with lag whose commit has not moved for stallSeconds is stalled, with its oldest pending offset; it recovers when the commit moves', async () => {
  const stalls = new StallDetector(60)
  const pauses = new PauseRegistry()
  stalls.observe([part(0, 100, 150), part(1, 40, 40)], 0)
  stalls.observe([part(0, 100, 160), part(1, 40, 40)], 59_999)
  assert.deepEqual(stalls.stalled(59_999), [])
  assert.equal(await gauge(0), 0)
  stalls.observe([part(0, 100, 170), part(1, 40, 40)], 60_000)
  const stalled = [{ pipeline: 'flights', topic: 'flights', partition: 0, oldestPendingOffset: 100, lag: 70, stalledSeconds: 60 }]
  assert.deepEqual(stalls.stalled(60_000), stalled)
  assert.equal(await gauge(0), 1)
  assert.equal(await gauge(1), 0)
  assert.deepEqual(pausedPartitionsCheck(60_000, pauses, 60_000, stalls), { ok: false, detail: { thresholdMs: 60_000, waiting: [], stallSeconds: 60, stalled } })

  stalls.observe([part(0, 101, 170), part(1, 40, 40)], 61_000)
  assert.deepEqual(stalls.stalled(61_000), [])
  assert.equal(await gauge(0), 0)
  assert.equal(pausedPartitionsCheck(60_000, pauses, 61_000, stalls).ok, true)
})

test('a partition without lag is never stalled however long its commit stays, and a group with no commit counts from the log start', () => {
  const stalls = new StallDetector(1)
  stalls.observe([part(0, 7, 7), part(1, null, 30, 10)], 0)
  stalls.observe([part(0, 7, 7), part(1, null, 30, 10)], 5_000)
  assert.deepEqual(stalls.stalled(5_000).map((s) => [s.partition, s.oldestPendingOffset, s.lag]), [[1, 10, 20]])
})

test('partitions no longer collected are forgotten with their gauge', async () => {
  const stalls = new StallDetector(1)
  stalls.observe([part(3, 0, 5)], 0)
  stalls.observe([part(3, 0, 5)], 2_000)
  assert.equal(await gauge(3), 1)
  stalls.observe([], 3_000)
  assert.equal(await gauge(3), undefined)
  assert.deepEqual(stalls.stalled(3_000), [])
})
