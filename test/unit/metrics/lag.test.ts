import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Admin } from 'kafkajs'
import { LagCollector, partitionLag } from '../../../src/metrics/lag.ts'
import { metrics, registry } from '../../../src/metrics/metrics.ts'

test('lag is the high watermark minus the committed offset; with nothing committed, or a commit older than the log start, it counts from the log start', () => {
  assert.equal(partitionLag('1500', '0', '1000'), 500)
  assert.equal(partitionLag('1500', '0', '1500'), 0)
  assert.equal(partitionLag('1500', '200', '-1'), 1300)
  assert.equal(partitionLag('1500', '200', '100'), 1300)
  assert.equal(partitionLag('0', '0', '-1'), 0)
})

/** The two admin calls the collector makes, answered from tables (no broker). */
function fakeAdmin(state: { watermarks: Record<string, Array<{ partition: number; high: string; low: string }>>; committed: Record<string, Array<{ partition: number; offset: string }>>; failing?: Set<string> }): Admin {
  return {
    fetchTopicOffsets: async (topic: string) => {
      if (state.failing?.has(topic)) throw new Error(`This server does not host this topic-partition (${topic})`)
      return (state.watermarks[topic] ?? []).map((w) => ({ ...w, offset: w.high }))
    },
    fetchOffsets: async ({ groupId, topics }: { groupId: string; topics: string[] }) =>
      topics.map((topic) => ({ topic, partitions: (state.committed[groupId] ?? []).map((p) => ({ ...p, metadata: null })) })),
  } as unknown as Admin
}

async function series(name: string): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name) as unknown as { values: Array<{ labels: Record<string, string>; value: number }> }
  return Object.fromEntries(metric.values.map((v) => [`${v.labels.pipeline}/${v.labels.topic}/${v.labels.partition}`, v.value]))
}

test('the lag collector sets lag, committed offset and high watermark per partition, keeps the last values of a group it cannot read, and removes groups that stopped', async () => {
  metrics.consumerLag.reset()
  metrics.committedOffset.reset()
  metrics.topicHighWatermark.reset()
  const state = {
    watermarks: { orders: [{ partition: 0, high: '120', low: '0' }, { partition: 1, high: '80', low: '0' }], clicks: [{ partition: 0, high: '10', low: '0' }] },
    committed: { 'flowhouse.orders': [{ partition: 0, offset: '100' }, { partition: 1, offset: '-1' }], 'flowhouse.clicks': [{ partition: 0, offset: '10' }] },
    failing: new Set<string>(),
  }
  let targets = [
    { pipeline: 'orders', groupId: 'flowhouse.orders', topic: 'orders' },
    { pipeline: 'clicks', groupId: 'flowhouse.clicks', topic: 'clicks' },
  ]
  const collector = new LagCollector(fakeAdmin(state), () => targets, 60_000)
  const lags = await collector.collect()
  assert.deepEqual(lags.map((l) => [l.topic, l.partition, l.lag, l.committed]), [['orders', 0, 20, 100], ['orders', 1, 80, null], ['clicks', 0, 0, 10]])
  assert.deepEqual(await series('flowhouse_consumer_lag_messages'), { 'orders/orders/0': 20, 'orders/orders/1': 80, 'clicks/clicks/0': 0 })
  assert.deepEqual(await series('flowhouse_consumer_committed_offset'), { 'orders/orders/0': 100, 'clicks/clicks/0': 10 })
  assert.deepEqual(await series('flowhouse_topic_high_watermark'), { 'orders/orders/0': 120, 'orders/orders/1': 80, 'clicks/clicks/0': 10 })

  state.failing.add('orders')
  state.watermarks.clicks = [{ partition: 0, high: '25', low: '0' }]
  await collector.collect()
  assert.deepEqual(await series('flowhouse_consumer_lag_messages'), { 'orders/orders/0': 20, 'orders/orders/1': 80, 'clicks/clicks/0': 15 })

  targets = targets.filter((t) => t.pipeline === 'clicks')
  await collector.collect()
  assert.deepEqual(await series('flowhouse_consumer_lag_messages'), { 'clicks/clicks/0': 15 })
  assert.deepEqual(await series('flowhouse_topic_high_watermark'), { 'clicks/clicks/0': 25 })
  await collector.stop()
})
