/**
 * Validation and resource constraints against the real broker and the embedded ClickHouse.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { metricValue, readTopic, removeDir, sql, startDaemon, waitFor, type DaemonProcess } from '../helpers.ts'
import { api, event, eventsModule, produce } from './helpers.ts'

let daemon: DaemonProcess | undefined
const dirs: string[] = []

after(async () => {
  await daemon?.kill('SIGTERM')
  for (const d of dirs) await removeDir(d)
})

test("the documentation's validation example dead-letters crafted bad records naming the rule and field, and writes the good ones", { timeout: 120_000 }, async () => {
  const m = await eventsModule(
    'validation',
    `[new Constraint({ name: 'field_validation', type: 'validation', config: { rules: {
      user_id: { required: true, pattern: '^[a-zA-Z0-9_-]{3,50}$' },
      event_type: { required: true, enum: ['click', 'view', 'purchase'] },
      timestamp: { required: true, format: 'iso8601' },
    } } })]`,
  )
  dirs.push(m.dir)
  daemon = await startDaemon({ pipelinesDir: m.pipelinesDir, dataDir: m.dataDir, env: { FLOWHOUSE_BATCH_FLUSH_MS: '200' } })
  const records = [
    event('g1', 'user_01'),
    event('b1', 'ab'),
    event('g2', 'user-02', { event_type: 'view', timestamp: '2026-01-31' }),
    event('b2', 'user_03', { event_type: 'hover' }),
    event('b3', 'user_04', { timestamp: 'yesterday' }),
    event('b4', 'user with spaces'),
    event('g3', 'USER_05', { event_type: 'purchase', timestamp: '2026-01-31T12:00:00.250+02:00' }),
  ]
  await produce(m.name, records, 10)
  const ids = await waitFor(async () => {
    const r = (await sql<{ id: string }>(daemon!.url, `SELECT id FROM ${m.name} ORDER BY id`)).map((x) => x.id)
    return r.length === 3 ? r : undefined
  }, { what: 'three good records written' })
  assert.deepEqual(ids, ['g1', 'g2', 'g3'])
  const dlq = (await readTopic(`${m.name}.dlq`, 4)).map((x) => JSON.parse(x.value) as { index: number; stage: string; errorType: string; reason: string })
  assert.deepEqual(
    dlq.sort((a, b) => a.index - b.index).map((e) => [e.index, e.stage, e.errorType, e.reason]),
    [
      [1, 'constraint', 'validation_failed', 'constraint "field_validation": field "user_id": rule pattern: must match pattern "^[a-zA-Z0-9_-]{3,50}$"'],
      [3, 'constraint', 'validation_failed', 'constraint "field_validation": field "event_type": rule enum: must be one of ["click","view","purchase"]'],
      [4, 'constraint', 'validation_failed', 'constraint "field_validation": field "timestamp": rule format: must be an ISO-8601 date or date-time'],
      [5, 'constraint', 'validation_failed', 'constraint "field_validation": field "user_id": rule pattern: must match pattern "^[a-zA-Z0-9_-]{3,50}$"'],
    ],
  )
  assert.equal(await metricValue(daemon.url, 'flowhouse_constraint_violations_total', { pipeline: m.name, constraint: 'field_validation', type: 'validation', action: 'dead_letter' }), 4)
  await daemon.kill('SIGTERM')
  daemon = undefined
})

test('a transform that runs past max_processing_time_ms is dead-lettered, async or stuck synchronously, while its neighbours pass', { timeout: 120_000 }, async () => {
  const m = await eventsModule('slow', `[new Constraint({ name: 'time_limit', type: 'resource', config: { max_processing_time_ms: 100 } })]`, {
    transform: `
      if (e.note === 'slow_async') await new Promise((r) => setTimeout(r, 400))
      if (e.note === 'stuck_sync') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000)
      return [e]`,
  })
  dirs.push(m.dir)
  daemon = await startDaemon({ pipelinesDir: m.pipelinesDir, dataDir: m.dataDir, env: { FLOWHOUSE_BATCH_FLUSH_MS: '200' } })
  const started = Date.now()
  await produce(m.name, [event('a', 'u1'), event('b', 'u1', { note: 'slow_async' }), event('c', 'u1'), event('d', 'u1', { note: 'stuck_sync' }), event('e', 'u1')], 10)
  const ids = await waitFor(async () => {
    const r = (await sql<{ id: string }>(daemon!.url, `SELECT id FROM ${m.name}_rows ORDER BY id`)).map((x) => x.id)
    return r.length === 3 ? r : undefined
  }, { timeoutMs: 30_000, what: 'the three fast records written' })
  assert.deepEqual(ids, ['a', 'c', 'e'])
  // A 60 s synchronous block did not hold the partition for 60 s.
  assert.ok(Date.now() - started < 30_000)
  const dlq = (await readTopic(`${m.name}.dlq`, 2)).map((x) => JSON.parse(x.value) as { index: number; errorType: string; reason: string })
  assert.deepEqual(
    dlq.sort((a, b) => a.index - b.index).map((e) => [e.index, e.errorType]),
    [
      [1, 'resource_limit_exceeded'],
      [3, 'resource_limit_exceeded'],
    ],
  )
  assert.match(dlq[0]!.reason, /^constraint "time_limit": transform took \d+ ms, over max_processing_time_ms 100$/)
  assert.equal(dlq[1]!.reason, 'constraint "time_limit": transform did not return within 100 ms and its worker was stopped, over max_processing_time_ms 100')
  await daemon.kill('SIGTERM')
  daemon = undefined
})

test('a memory limit below the daemon’s RSS pauses consumption, and raising it at run time resumes it; both show in the metrics', { timeout: 120_000 }, async () => {
  const m = await eventsModule('memory', `[new Constraint({ name: 'memory_limit', type: 'resource', config: { max_memory_mb: 1 } })]`)
  dirs.push(m.dir)
  daemon = await startDaemon({ pipelinesDir: m.pipelinesDir, dataDir: m.dataDir, env: { FLOWHOUSE_BATCH_FLUSH_MS: '200' } })
  await produce(m.name, Array.from({ length: 50 }, (_, i) => event(`m${i}`, 'u1')), 10)
  await waitFor(async () => (await metricValue(daemon!.url, 'flowhouse_constraint_pauses_total', { pipeline: m.name, constraint: 'memory_limit' })) >= 1, { what: 'a pause' })
  assert.equal(await metricValue(daemon.url, 'flowhouse_paused_partitions', { pipeline: m.name }), 1)
  await new Promise((r) => setTimeout(r, 1_500))
  assert.equal(Number((await sql<{ n: string }>(daemon.url, `SELECT count() AS n FROM ${m.name}`))[0]!.n), 0, 'nothing is consumed while paused')

  const changed = await api(daemon.url, 'PUT', `/api/constraints/${m.name}/memory_limit/config`, { config: { max_memory_mb: 1_000_000 } })
  assert.equal(changed.status, 200)
  await waitFor(async () => Number((await sql<{ n: string }>(daemon!.url, `SELECT count() AS n FROM ${m.name}`))[0]!.n) === 50, { timeoutMs: 10_000, what: 'consumption to resume' })
  assert.equal(await metricValue(daemon.url, 'flowhouse_constraint_resumes_total', { pipeline: m.name, constraint: 'memory_limit' }), 1)
  assert.equal(await metricValue(daemon.url, 'flowhouse_paused_partitions', { pipeline: m.name }), 0)
  assert.ok((await metricValue(daemon.url, 'flowhouse_constraint_throttle_seconds_total', { pipeline: m.name, constraint: 'memory_limit' })) >= 1)
})
