import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Constraint } from '../../../src/constraints/constraint.ts'
import { ConstraintRegistry } from '../../../src/constraints/registry.ts'
import { ConfigError } from '../../../src/errors.ts'

/** A store holding one persisted state (as an older version, or a hand edit, could have left it). */
function registryWith(config: unknown) {
  const saved: unknown[] = []
  const store = {
    init: async () => undefined,
    load: async () => [{ pipeline: 'p', constraint: 'rate', enabled: true, config: JSON.stringify(config), version: Date.now() + 60_000 }],
    save: async (s: unknown) => void saved.push(s),
  }
  const history = { record: () => undefined, query: async () => [], start: async () => undefined, stop: async () => undefined }
  return { registry: new ConstraintRegistry(store as never, history as never), saved }
}

test('a stored max_events_per_second of 1e308 is reported in the status and skipped; the record is still judged by the last valid config', async () => {
  const { registry } = registryWith({ max_events_per_second: 1e308 })
  await registry.attach('p', [new Constraint({ name: 'rate', type: 'rate', config: { max_events_per_second: 10 } })], new Set(['kind']))
  const running = registry.get('p', 'rate')!
  assert.deepEqual(running.config, { max_events_per_second: 10 })
  const status = (await running.getStatus()) as { stored_state_error: string | null }
  assert.match(status.stored_state_error ?? '', /ignored: constraint "rate": option "config\.max_events_per_second": must be from 0\.01 to 10000000/)
  await running.apply({ kind: 'a' })
})

test('a run-time change to a group_by field outside the schema is refused and nothing is stored', async () => {
  const { registry, saved } = registryWith({ max_events_per_second: 10 })
  await registry.attach('p', [new Constraint({ name: 'rate', type: 'rate', config: { max_events_per_second: 10 } })], new Set(['kind']))
  const running = registry.get('p', 'rate')!
  await assert.rejects(running.updateConfig({ group_by: ['__proto__'] }), ConfigError)
  await assert.rejects(running.updateConfig({ group_by: ['user'] }), /field "user" is not in the pipeline's schema/)
  await assert.rejects(running.updateConfig({ max_events_per_second: 1e308 }), ConfigError)
  assert.deepEqual(saved, [])
  await running.updateConfig({ group_by: ['kind'] })
  assert.equal(saved.length, 1)
})
