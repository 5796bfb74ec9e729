/**
 * Run-time management of constraints: disable, enable and update_config change behaviour
 * mid-stream, survive a restart, reach a second daemon on the same ClickHouse server, and the
 * violation history answers time-range queries exactly.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { metricValue, removeDir, sql, startDaemon, waitFor, type DaemonProcess } from '../helpers.ts'
import { api, event, eventsModule, produce } from './helpers.ts'

const daemons: DaemonProcess[] = []
const dirs: string[] = []

after(async () => {
  for (const d of daemons) await d.kill('SIGTERM')
  for (const d of dirs) await removeDir(d)
})

const VALIDATION = `[new Constraint({ name: 'types', type: 'validation', config: { rules: { event_type: { required: true, enum: ['click', 'view'] } } } })]`
const ids = async (url: string, table: string) => (await sql<{ id: string }>(url, `SELECT id FROM ${table} ORDER BY id`)).map((r) => r.id)

test('disable, enable and update_config change behaviour mid-stream and are still in force after a restart', { timeout: 180_000 }, async () => {
  const m = await eventsModule('runtime', VALIDATION)
  dirs.push(m.dir)
  const env = { FLOWHOUSE_BATCH_FLUSH_MS: '200' }
  let daemon = await startDaemon({ pipelinesDir: m.pipelinesDir, dataDir: m.dataDir, env })
  daemons.push(daemon)
  const dlq = () => metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: m.name, stage: 'constraint' })

  // Enabled as declared: 'buy' is refused.
  await produce(m.name, [event('p1', 'u', { event_type: 'buy' }), event('p2', 'u')])
  await waitFor(async () => (await dlq()) === 1 && (await ids(daemon.url, m.name)).length === 1, { what: 'phase 1' })

  // Disabled: 'buy' goes through.
  assert.equal((await api(daemon.url, 'POST', `/api/constraints/${m.name}/types/disable`)).body.enabled, false)
  await produce(m.name, [event('p3', 'u', { event_type: 'buy' })])
  await waitFor(async () => (await ids(daemon.url, m.name)).includes('p3'), { timeoutMs: 5_000, what: 'a disabled constraint to let p3 through within 2 s' })

  // Enabled again with 'buy' allowed, 'view' no longer.
  await api(daemon.url, 'POST', `/api/constraints/${m.name}/types/enable`)
  const updated = await api(daemon.url, 'PUT', `/api/constraints/${m.name}/types/config`, { config: { rules: { event_type: { required: true, enum: ['click', 'buy'] } } } })
  assert.equal(updated.status, 200)
  assert.deepEqual(updated.body.config, { rules: { event_type: { required: true, enum: ['click', 'buy'] } } })
  await produce(m.name, [event('p4', 'u', { event_type: 'buy' }), event('p5', 'u', { event_type: 'view' })])
  await waitFor(async () => (await dlq()) === 2 && (await ids(daemon.url, m.name)).includes('p4'), { what: 'phase 3' })

  // A config that breaks a rule is refused with the load-time message.
  const bad = await api(daemon.url, 'PUT', `/api/constraints/${m.name}/types/config`, { config: { rules: { event_type: { enum: [] } } } })
  assert.equal(bad.status, 400)
  assert.equal(bad.body.error, 'constraint "types": option "config.rules.event_type.enum": must be a non-empty list of at most 10000 values (got []); list the allowed values')

  // Restart: the run-time state persisted in ClickHouse wins over the module's declaration.
  await daemon.kill('SIGTERM')
  daemon = await startDaemon({ pipelinesDir: m.pipelinesDir, dataDir: m.dataDir, env })
  daemons.push(daemon)
  const status = await api(daemon.url, 'GET', `/api/constraints/${m.name}/types`)
  assert.equal(status.body.enabled, true)
  assert.deepEqual(status.body.config.rules.event_type.enum, ['click', 'buy'])
  await produce(m.name, [event('p6', 'u', { event_type: 'view' }), event('p7', 'u', { event_type: 'buy' })])
  await waitFor(async () => (await ids(daemon.url, m.name)).includes('p7'), { what: 'p7 after the restart' })
  assert.deepEqual(await ids(daemon.url, m.name), ['p2', 'p3', 'p4', 'p7'])
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: m.name, stage: 'constraint' }), 1, 'p6 refused after the restart')
})

test('a time-range query of the violation history returns exactly the violations produced inside the window', { timeout: 120_000 }, async () => {
  const m = await eventsModule('history', VALIDATION)
  dirs.push(m.dir)
  const daemon = await startDaemon({ pipelinesDir: m.pipelinesDir, dataDir: m.dataDir, env: { FLOWHOUSE_BATCH_FLUSH_MS: '200' } })
  daemons.push(daemon)
  const dlq = () => metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: m.name, stage: 'constraint' })
  const nextSecond = async () => {
    await new Promise((r) => setTimeout(r, 1_000 - (Date.now() % 1_000) + 50))
    return new Date(Math.floor(Date.now() / 1_000) * 1_000)
  }
  const bad = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => event(`${prefix}${i}`, `user${i}`, { event_type: 'nope' }))

  const t0 = await nextSecond()
  await produce(m.name, bad('a', 5))
  await waitFor(async () => (await dlq()) === 5, { what: 'five violations' })
  const t1 = await nextSecond()
  await produce(m.name, bad('b', 7))
  await waitFor(async () => (await dlq()) === 12, { what: 'seven more violations' })
  const t2 = await nextSecond()

  const window = async (from: Date, to: Date) => {
    const q = await api<{ violations: Array<{ count: number; constraint: string; pipeline: string; action: string; record_key: string; details: string; type: string }> }>(
      daemon.url,
      'GET',
      `/api/violations?pipeline=${m.name}&constraint=types&from=${from.toISOString()}&to=${to.toISOString()}`,
    )
    assert.equal(q.status, 200)
    return q.body.violations
  }
  const first = await window(t0, t1)
  const second = await window(t1, t2)
  assert.equal(first.reduce((a, v) => a + v.count, 0), 5)
  assert.equal(second.reduce((a, v) => a + v.count, 0), 7)
  assert.deepEqual(first.map((v) => v.record_key).sort(), ['a0', 'a1', 'a2', 'a3', 'a4'])
  assert.ok(first.every((v) => v.constraint === 'types' && v.type === 'validation' && v.action === 'dead_letter'))
  assert.equal(first[0]!.details, 'constraint "types": field "event_type": rule enum: must be one of ["click","view"]')
  assert.equal((await window(t0, t2)).reduce((a, v) => a + v.count, 0), 12)
  assert.equal((await window(new Date(t0.getTime() - 60_000), t0)).length, 0)

  const own = await api<unknown[]>(daemon.url, 'GET', `/api/constraints/${m.name}/types/violations?from=${t1.toISOString()}&to=${t2.toISOString()}`)
  assert.equal((own.body as unknown as { violations: Array<{ count: number }> }).violations.reduce((a, v) => a + v.count, 0), 7)
})

test('a run-time change made through one daemon reaches a second daemon on the same ClickHouse server within 2 s', { timeout: 120_000 }, async () => {
  const m = await eventsModule('shared', VALIDATION)
  dirs.push(m.dir)
  const env = { CLICKHOUSE_URL: process.env.CLICKHOUSE_TEST_URL || 'http://127.0.0.1:8123', FLOWHOUSE_BATCH_FLUSH_MS: '200' }
  const a = await startDaemon({ pipelinesDir: m.pipelinesDir, dataDir: `${m.dataDir}-a`, env })
  daemons.push(a)
  const b = await startDaemon({ pipelinesDir: m.pipelinesDir, dataDir: `${m.dataDir}-b`, env })
  daemons.push(b)
  assert.equal((await api(b.url, 'GET', `/api/constraints/${m.name}/types`)).body.enabled, true)
  await api(a.url, 'POST', `/api/constraints/${m.name}/types/disable`)
  const changedAt = Date.now()
  await waitFor(async () => (await api(b.url, 'GET', `/api/constraints/${m.name}/types`)).body.enabled === false, { timeoutMs: 2_000, intervalMs: 50, what: 'the second daemon to see the change' })
  assert.ok(Date.now() - changedAt <= 2_000)
  await api(b.url, 'PUT', `/api/constraints/${m.name}/types/config`, { config: { rules: { event_type: { required: true, enum: ['view'] } } } })
  await waitFor(async () => {
    const s = await api(a.url, 'GET', `/api/constraints/${m.name}/types`)
    return JSON.stringify(s.body.config.rules.event_type.enum) === '["view"]'
  }, { timeoutMs: 2_000, intervalMs: 50, what: 'the first daemon to see the new config' })
})
