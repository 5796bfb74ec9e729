/**
 * The three surfaces of run-time management on one running daemon: the programmatic handle
 * (the Constraint object of the module the daemon loaded), the HTTP API (including 429 with
 * Retry-After on the ingest path) and the `flowhouse constraints` CLI.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { resolveConfig } from '../../../src/config.ts'
import type { Constraint } from '../../../src/constraints/constraint.ts'
import { Daemon } from '../../../src/daemon/daemon.ts'
import { ROOT, freePort, removeDir, waitFor } from '../helpers.ts'
import { api, event, eventsModule, type EventsModule } from './helpers.ts'

let daemon: Daemon
let m: EventsModule
let declared: Constraint[]

before(async () => {
  m = await eventsModule(
    'handle',
    `[
      new Constraint({ name: 'ingest_rate', type: 'rate', priority: 10, config: { max_events_per_second: 5 } }),
      new Constraint({ name: 'types', type: 'validation', config: { rules: { event_type: { enum: ['click', 'view'] } } } }),
    ]`,
  )
  daemon = await Daemon.start(resolveConfig({ ...process.env, FLOWHOUSE_DATA_DIR: m.dataDir, FLOWHOUSE_LOG_LEVEL: 'warn' }, { pipelinesDir: m.pipelinesDir, port: await freePort() }))
  // The same module instance the daemon loaded (the loader imports it with its mtime as version).
  const file = path.join(m.pipelinesDir, `${m.name}.ts`)
  const mod = (await import(`${pathToFileURL(file).href}?v=${Math.floor((await stat(file)).mtimeMs)}`)) as { constraints: Constraint[] }
  declared = mod.constraints
})

after(async () => {
  await daemon?.stop()
  if (m) await removeDir(m.dir)
})

test('the Constraint object of a loaded module is a live handle: status, limits, disable, update_config, metrics, statistics, violations', async () => {
  const types = declared.find((c) => c.name === 'types')!
  assert.deepEqual(await types.getStatus(), {
    pipeline: m.name,
    name: 'types',
    type: 'validation',
    enabled: true,
    priority: 0,
    action: 'dead_letter',
    config: { rules: { event_type: { enum: ['click', 'view'] } } },
    version: 0,
    stored_state_error: null,
  })
  await types.disable()
  assert.equal(((await types.getStatus()) as { enabled: boolean }).enabled, false)
  assert.equal((await api(daemon.url, 'GET', `/api/constraints/${m.name}/types`)).body.enabled, false, 'the HTTP API sees the change')
  await types.enable()
  await types.updateConfig({ rules: { event_type: { enum: ['click'] } } })
  assert.deepEqual(await types.getLimits(), { rules: { event_type: { enum: ['click'] } } })
  const rate = declared.find((c) => c.name === 'ingest_rate')!
  assert.deepEqual(await rate.getLimits(), { max_events_per_second: 5, max_events_per_minute: null, group_by: null, active_keys: 0 })
  assert.deepEqual(await rate.getMetrics(), { checks: 0, violations: 0, throttle_seconds: 0 })
  assert.deepEqual(await types.getViolations({ startTime: '2020-01-01T00:00:00Z', endTime: new Date() }), [])
})

test('apply() checks one record on demand and throws the typed errors with their codes', async () => {
  const types = declared.find((c) => c.name === 'types')!
  await types.apply(event('ok', 'u'))
  await assert.rejects(types.apply(event('no', 'u', { event_type: 'scroll' })), (error: Error & { code: string }) => {
    assert.equal(error.name, 'ValidationError')
    assert.equal(error.code, 'CONSTRAINT_VALIDATION_FAILED')
    assert.equal(error.message, 'constraint "types": field "event_type": rule enum: must be one of ["click"]')
    return true
  })
})

test('the ingest API answers 429 with Retry-After when a rate constraint refuses a request, 413 without it for a request larger than the bucket, and records the violations', async () => {
  const post = (records: object[]) => fetch(`${daemon.url}/ingest/${m.name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) })
  const tooLarge = await post([1, 2, 3, 4, 5, 6].map((i) => event(`big${i}`, 'u')))
  assert.equal(tooLarge.status, 413)
  assert.equal(tooLarge.headers.get('retry-after'), null)
  assert.equal(((await tooLarge.json()) as { error: string }).error, 'rate limit "ingest_rate" admits at most 5 records at once for key "*" (its bucket size, max_events_per_second); this request has 6, so retrying it can never succeed: send at most 5 records per request')
  const first = await post([1, 2, 3, 4, 5].map((i) => event(`r${i}`, 'u')))
  assert.equal(first.status, 200)
  const second = await post([event('r6', 'u')])
  assert.equal(second.status, 429)
  assert.equal(second.headers.get('retry-after'), '1')
  const body = (await second.json()) as { code: string; error: string }
  assert.equal(body.code, 'RATE_LIMIT_EXCEEDED')
  assert.equal(body.error, 'rate limit "ingest_rate" exceeded for key "*"')
  const rate = declared.find((c) => c.name === 'ingest_rate')!
  const stats = (await rate.getStatistics()) as { violations_by_action: Record<string, number> }
  // One rejected violation per record refused: 6 (the 413) + 1 (the 429).
  assert.equal(stats.violations_by_action.rejected, 7)
  await assert.rejects(rate.apply(event('r7', 'u')), { name: 'RateLimitExceededError', code: 'RATE_LIMIT_EXCEEDED' })
  await waitFor(async () => ((await rate.getViolations({ startTime: new Date(Date.now() - 60_000) })) as Array<{ action: string }>).some((v) => v.action === 'rejected'), { what: 'the 429 in the history' })
})

test('the flowhouse constraints CLI lists, reads and changes constraints of a running daemon', async () => {
  const cli = (...args: string[]) => promisify(execFile)(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), 'constraints', ...args], { env: { ...process.env, FLOWHOUSE_URL: daemon.url } })
  const list = await cli('list')
  assert.match(list.stdout, /ingest_rate/)
  assert.match(list.stdout, /types/)
  await cli('disable', m.name, 'types')
  assert.equal(JSON.parse((await cli('status', m.name, 'types')).stdout).enabled, false)
  const updated = JSON.parse((await cli('update', m.name, 'ingest_rate', '{"max_events_per_second": 50}')).stdout)
  assert.equal(updated.config.max_events_per_second, 50)
  const declaredRate = declared.find((c) => c.name === 'ingest_rate')!
  assert.equal(((await declaredRate.getLimits()) as { max_events_per_second: number }).max_events_per_second, 50)
  await assert.rejects(cli('update', m.name, 'ingest_rate', '{"max_events_per_second": -1}'), /must be a positive number of events per second \(got -1\)/)
})
