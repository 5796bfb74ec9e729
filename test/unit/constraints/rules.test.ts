import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileRules, rulesToJsonSchema } from '../../../src/constraints/validation.ts'
import { RateBuckets } from '../../../src/constraints/rate.ts'
import { ConstraintEvaluator, rateKey } from '../../../src/constraints/evaluate.ts'

const docRules = {
  rules: {
    user_id: { required: true, pattern: '^[a-zA-Z0-9_-]{3,50}$' },
    event_type: { required: true, enum: ['click', 'view', 'purchase'] },
    timestamp: { required: true, format: 'iso8601' as const },
    value: { min: 0, max: 1000 },
    metadata: { max_size: 24 },
  },
}

test('validation rules compile to a JSON Schema for ajv', () => {
  const schema = rulesToJsonSchema(docRules) as { required: string[]; properties: Record<string, unknown> }
  assert.deepEqual(schema.required, ['user_id', 'event_type', 'timestamp'])
  assert.deepEqual(schema.properties.user_id, { not: { type: 'null' }, pattern: '^[a-zA-Z0-9_-]{3,50}$', type: 'string' })
  assert.deepEqual(schema.properties.value, { anyOf: [{ type: 'null' }, { type: 'number', minimum: 0, maximum: 1000 }] })
})

test('each rule reports its field and rule name', () => {
  const rules = compileRules(docRules)
  const ok = { user_id: 'user_1', event_type: 'view', timestamp: '2026-01-31T10:00:00.5+01:00' }
  assert.equal(rules.check(ok), undefined)
  const failures = [
    [{ ...ok, user_id: 'x' }, 'user_id', 'pattern'],
    [{ event_type: 'view', timestamp: '2026-01-31' }, 'user_id', 'required'],
    [{ ...ok, event_type: 'scroll' }, 'event_type', 'enum'],
    [{ ...ok, timestamp: '31/01/2026' }, 'timestamp', 'format'],
    [{ ...ok, timestamp: '2026-02-30T25:00:00Z' }, 'timestamp', 'format'],
    [{ ...ok, value: -1 }, 'value', 'min'],
    [{ ...ok, value: 1001 }, 'value', 'max'],
    [{ ...ok, value: '5' }, 'value', 'min'],
    [{ ...ok, metadata: { note: 'more than twenty-four bytes' } }, 'metadata', 'max_size'],
  ] as const
  for (const [record, field, rule] of failures) {
    const f = rules.check(record)
    assert.ok(f, `${JSON.stringify(record)} must fail`)
    assert.deepEqual([f.field, f.rule], [field, rule], JSON.stringify(record))
  }
  assert.equal(rules.check({ ...ok, value: null, metadata: null }), undefined, 'null counts as absent for optional fields')
})

test('rate keys join the group_by values; without group_by every record shares one key', () => {
  assert.equal(rateKey({ user_id: 'a', region: 'eu' }, ['user_id', 'region']), 'a|eu')
  assert.equal(rateKey({ user_id: 'a' }, undefined), '*')
})

test('a rate bucket starts empty, refills continuously, and keeps keys apart', async () => {
  const buckets = new RateBuckets({ max_events_per_second: 100 })
  assert.equal(await buckets.tryTake('a', 1), false)
  await new Promise((r) => setTimeout(r, 120))
  assert.equal(await buckets.tryTake('a', 10), true)
  assert.equal(await buckets.tryTake('b', 10), false, 'b has its own bucket')
  const waited = await buckets.take('c', 20)
  assert.ok(waited >= 150 && waited < 600, `20 tokens at 100/s take about 200 ms (took ${waited})`)
})

test('the worker evaluates in priority order: the first removing violation ends evaluation, and throttle limits only count keys', () => {
  const snapshot = (name: string, type: 'rate' | 'validation' | 'resource', config: object, action: 'throttle' | 'dead_letter' | 'drop', priority: number) => ({ name, type, config, action, priority, enabled: true, version: 1 })
  const evaluator = new ConstraintEvaluator(
    [
      snapshot('per_user', 'rate', { max_events_per_second: 5, group_by: ['user_id'] }, 'throttle', 10),
      snapshot('types', 'validation', { rules: { event_type: { enum: ['click'] } } }, 'dead_letter', 5),
      snapshot('size', 'resource', { max_memory_per_event_kb: 1 }, 'throttle', 1),
    ],
    'id',
  )
  assert.equal(evaluator.evaluate({ id: '1', user_id: 'u', event_type: 'click' }, 0), 'keep')
  assert.equal(evaluator.evaluate({ id: '2', user_id: 'u', event_type: 'view', blob: 'x'.repeat(2000) }, 1), 'removed')
  assert.equal(evaluator.evaluate({ id: '3', user_id: 'v', event_type: 'click', blob: 'x'.repeat(2000) }, 2), 'removed')
  const r = evaluator.result
  assert.deepEqual(r.throttle, { per_user: { u: 2, v: 1 } })
  assert.deepEqual(r.checks, { per_user: 3, types: 3, size: 2 })
  assert.deepEqual(
    r.violations.map((v) => [v.index, v.constraint, v.action, v.key]),
    [
      [1, 'types', 'dead_letter', '2'],
      [2, 'size', 'dead_letter', '3'],
    ],
  )
})

test('a rule on a dotted path checks the nested field, and a required nested field requires its parent', () => {
  const rules = compileRules({ rules: { 'properties.mag': { min: 0 }, 'properties.place': { required: true } } })
  assert.equal(rules.check({ properties: { mag: 1.5, place: 'Reno' } }), undefined)
  assert.equal(rules.check({ properties: { mag: null, place: 'Reno' } }), undefined, 'null counts as absent for an optional nested field')
  assert.deepEqual(rules.check({ properties: { mag: -0.4, place: 'Reno' } }), { field: 'properties.mag', rule: 'min', reason: 'must be >= 0' })
  assert.deepEqual(rules.check({ properties: { mag: 2 } }), { field: 'properties.place', rule: 'required', reason: 'is required' })
  assert.deepEqual(rules.check({}), { field: 'properties.place', rule: 'required', reason: 'is required' })
  const optional = compileRules({ rules: { 'properties.mag': { min: 0 } } })
  assert.equal(optional.check({}), undefined, 'a missing parent leaves an optional nested rule nothing to check')
  assert.deepEqual(optional.check({ properties: { mag: -1 } }), { field: 'properties.mag', rule: 'min', reason: 'must be >= 0' })
})
