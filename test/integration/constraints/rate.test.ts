/**
 * Rate constraints against the real broker and the embedded ClickHouse: a per-user_id limit of
 * 100 events/s with 3 users sending 1,000 events each.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { metricValue, readTopic, removeDir, sql, startDaemon, waitFor, type DaemonProcess } from '../helpers.ts'
import { api, event, eventsModule, produce, type EventsModule } from './helpers.ts'

const USERS = ['alice', 'bob', 'carol']
const PER_USER = 1_000
const TOTAL = USERS.length * PER_USER
let daemon: DaemonProcess | undefined
const dirs: string[] = []

after(async () => {
  await daemon?.kill('SIGTERM')
  for (const d of dirs) await removeDir(d)
})

/** Interleaved events of the three users, ids u-<user>-<n>. */
const events = () => Array.from({ length: TOTAL }, (_, i) => event(`u-${USERS[i % 3]}-${Math.floor(i / 3)}`, USERS[i % 3]!))

const count = async (url: string, table: string) => Number((await sql<{ n: string }>(url, `SELECT count() AS n FROM ${table}`))[0]!.n)

async function start(m: EventsModule): Promise<DaemonProcess> {
  dirs.push(m.dir)
  return startDaemon({ pipelinesDir: m.pipelinesDir, dataDir: m.dataDir, env: { FLOWHOUSE_BATCH_FLUSH_MS: '100' } })
}

test('a throttling per-user_id limit of 100/s lets 3 users through at 300/s ±15% and writes every event', { timeout: 180_000 }, async () => {
  const m = await eventsModule('rate_throttle', `[new Constraint({ name: 'user_rate', type: 'rate', config: { max_events_per_second: 100, group_by: ['user_id'] } })]`)
  daemon = await start(m)
  await produce(m.name, events(), 100)

  // Sample the written count over time; the rate is the slope of the steady part.
  const samples: Array<[number, number]> = []
  await waitFor(async () => {
    const n = await count(daemon!.url, m.name)
    samples.push([performance.now(), n])
    return n >= TOTAL
  }, { timeoutMs: 60_000, intervalMs: 100, what: 'every event written' })
  const first = samples.find(([, n]) => n >= 300)!
  const last = samples.find(([, n]) => n >= TOTAL)!
  const rate = (last[1] - first[1]) / ((last[0] - first[0]) / 1000)
  assert.ok(rate >= 255 && rate <= 345, `measured ${rate.toFixed(1)} events/s; expected 300 ± 15%`)

  const [rows] = await sql<{ n: string; ids: string }>(daemon.url, `SELECT count() AS n, uniqExact(id) AS ids FROM ${m.name}`)
  assert.equal(Number(rows!.n), TOTAL)
  assert.equal(Number(rows!.ids), TOTAL)
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: m.name }), 0)
  assert.ok((await metricValue(daemon.url, 'flowhouse_constraint_throttle_seconds_total', { pipeline: m.name, constraint: 'user_rate' })) > 5)
  assert.ok((await metricValue(daemon.url, 'flowhouse_constraint_violations_total', { pipeline: m.name, constraint: 'user_rate', action: 'throttle' })) > 0)
  assert.equal(await metricValue(daemon.url, 'flowhouse_constraint_checks_total', { pipeline: m.name, constraint: 'user_rate' }), TOTAL)

  const stats = await api(daemon.url, 'GET', `/api/constraints/${m.name}/user_rate/statistics`)
  assert.equal(stats.status, 200)
  assert.equal(stats.body.checks, TOTAL)
  assert.ok(stats.body.throttle_seconds > 5)
  await daemon.kill('SIGTERM')
  daemon = undefined
})

test('with action dead_letter, the DLQ count plus the written count equals the sent count exactly', { timeout: 180_000 }, async () => {
  const m = await eventsModule('rate_dlq', `[new Constraint({ name: 'user_rate', type: 'rate', action: 'dead_letter', config: { max_events_per_second: 100, group_by: ['user_id'] } })]`)
  daemon = await start(m)
  const sent = performance.now()
  await produce(m.name, events(), 100)
  await waitFor(async () => (await metricValue(daemon!.url, 'flowhouse_records_consumed_total', { pipeline: m.name })) === TOTAL && (await metricValue(daemon!.url, 'flowhouse_batches_flushed_total', { pipeline: m.name })) > 0, {
    timeoutMs: 60_000,
    what: 'every event consumed',
  })
  const dlqCount = await waitFor(async () => {
    const d = await metricValue(daemon!.url, 'flowhouse_records_dead_lettered_total', { pipeline: m.name, stage: 'constraint' })
    const w = await count(daemon!.url, m.name)
    return d + w === TOTAL ? d : undefined
  }, { timeoutMs: 30_000, what: 'written + dead-lettered = sent' })
  const written = await count(daemon.url, m.name)
  assert.equal(written + dlqCount, TOTAL)
  assert.ok(dlqCount > 0, 'the burst exceeded the limit')
  // How many pass depends on how long consuming the burst took: each user's bucket starts empty
  // and refills at 100/s, so no user gets more than 100 per second elapsed since the burst was sent.
  const elapsedS = (performance.now() - sent) / 1000
  const perUser = await sql<{ user_id: string; n: string }>(daemon.url, `SELECT user_id, count() AS n FROM ${m.name} GROUP BY user_id ORDER BY user_id`)
  assert.deepEqual(perUser.map((u) => u.user_id), USERS, 'every user got some through')
  for (const u of perUser) assert.ok(Number(u.n) >= 1 && Number(u.n) <= Math.ceil(100 * elapsedS) + 1, `${u.user_id}: ${u.n} written in ${elapsedS.toFixed(1)} s at 100/s`)
  assert.ok(written <= Math.ceil(300 * elapsedS) + 3, `${written} written in ${elapsedS.toFixed(1)} s: at most 300/s for 3 users`)

  const dlq = (await readTopic(`${m.name}.dlq`, dlqCount)).map((x) => JSON.parse(x.value) as { stage: string; errorType: string; reason: string; record: { id: string } })
  assert.equal(dlq.length, dlqCount)
  assert.ok(dlq.every((e) => e.stage === 'constraint' && e.errorType === 'rate_limit_exceeded'))
  assert.match(dlq[0]!.reason, /^constraint "user_rate": rate limit 100\/s exceeded for key "(alice|bob|carol)"$/)
  // No event is both written and dead-lettered.
  const writtenIds = new Set((await sql<{ id: string }>(daemon.url, `SELECT id FROM ${m.name}`)).map((r) => r.id))
  assert.ok(dlq.every((e) => !writtenIds.has(e.record.id)))
  assert.equal(new Set(dlq.map((e) => e.record.id)).size + writtenIds.size, TOTAL)
})
