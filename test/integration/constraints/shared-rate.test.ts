/**
 * A rate constraint shared through Redis (FLOWHOUSE_REDIS_URL): two daemons in one consumer
 * group, each consuming one partition, on the same ClickHouse server, let through the
 * configured 300 events/s in total, not 300 each.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { metricValue, removeDir, sql, startDaemon, waitFor, type DaemonProcess } from '../helpers.ts'
import { event, eventsModule, produce } from './helpers.ts'

const TOTAL = 3_600
const daemons: DaemonProcess[] = []
const dirs: string[] = []

after(async () => {
  await Promise.all(daemons.map((d) => d.kill('SIGTERM')))
  for (const d of dirs) await removeDir(d)
})

test('two daemons sharing a 300 events/s limit through Redis let through 300 events/s ±15% in total, each consuming its share', { timeout: 180_000 }, async (t) => {
  const m = await eventsModule('shared_rate', `[new Constraint({ name: 'total_rate', type: 'rate', config: { max_events_per_second: 300 } })]`, { parallelism: 2 })
  dirs.push(m.dir)
  const env = {
    CLICKHOUSE_URL: process.env.CLICKHOUSE_TEST_URL || 'http://127.0.0.1:8123',
    FLOWHOUSE_REDIS_URL: process.env.FLOWHOUSE_TEST_REDIS_URL || `redis://127.0.0.1:${process.env.REDIS_PORT || 6390}`,
    FLOWHOUSE_BATCH_FLUSH_MS: '100',
  }
  const a = await startDaemon({ pipelinesDir: m.pipelinesDir, dataDir: `${m.dataDir}-a`, env })
  daemons.push(a)
  const b = await startDaemon({ pipelinesDir: m.pipelinesDir, dataDir: `${m.dataDir}-b`, env })
  daemons.push(b)
  assert.match(a.output(), /rate limits are shared through Redis/)
  // Both members hold one partition each before anything is produced.
  const partitions = async (url: string) => ((await (await fetch(`${url}/ready`)).json()) as { checks: { consumers: { detail: unknown } } }).checks.consumers.detail
  await waitFor(async () => {
    const text = JSON.stringify([await partitions(a.url), await partitions(b.url)])
    return (text.match(/"partitions":\[\d\]/g) ?? []).length === 2
  }, { timeoutMs: 60_000, what: 'each daemon to hold one partition' }).catch(async (error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify([await partitions(a.url), await partitions(b.url)])}`)
  })

  await produce(m.name, Array.from({ length: TOTAL }, (_, i) => event(`e${i}`, `u${i % 7}`)), 30)

  const samples: Array<[number, number]> = []
  await waitFor(async () => {
    const n = Number((await sql<{ n: string }>(a.url, `SELECT count() AS n FROM ${m.name}`))[0]!.n)
    samples.push([performance.now(), n])
    return n >= TOTAL
  }, { timeoutMs: 90_000, intervalMs: 100, what: 'every event written' })
  const first = samples.find(([, n]) => n >= 600)!
  const last = samples.find(([, n]) => n >= TOTAL)!
  const rate = (last[1] - first[1]) / ((last[0] - first[0]) / 1000)
  t.diagnostic(`measured ${rate.toFixed(1)} events/s in total`)
  assert.ok(rate >= 255 && rate <= 345, `measured ${rate.toFixed(1)} events/s in total; expected 300 ± 15%`)

  const consumedA = await metricValue(a.url, 'flowhouse_records_consumed_total', { pipeline: m.name })
  const consumedB = await metricValue(b.url, 'flowhouse_records_consumed_total', { pipeline: m.name })
  assert.equal(consumedA + consumedB, TOTAL)
  t.diagnostic(`consumed by daemon a: ${consumedA}, by daemon b: ${consumedB}`)
  assert.ok(consumedA >= TOTAL * 0.3 && consumedB >= TOTAL * 0.3, `each daemon consumed its share: ${consumedA} and ${consumedB}`)
  const [rows] = await sql<{ n: string; ids: string }>(a.url, `SELECT count() AS n, uniqExact(id) AS ids FROM ${m.name}`)
  assert.equal(Number(rows!.ids), TOTAL)
})
