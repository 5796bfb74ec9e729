import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ValidationChecker } from '../../../src/constraints/checkers/validation.ts'
import { ValidationError } from '../../../src/errors.ts'
import type { ValidationSpec } from '../../../src/constraints/types.ts'

const spec = (action: ValidationSpec['action'] = 'dead_letter'): ValidationSpec => ({
  name: 'types',
  type: 'validation',
  config: { rules: { event_type: { required: true, enum: ['click', 'view'] }, value: { min: 0 } } },
  enabled: true,
  priority: 0,
  action,
})

test('a validation checker passes a record that meets every rule', () => {
  assert.equal(new ValidationChecker(spec()).check({ event_type: 'click', value: 3 }), undefined)
})

test('a validation checker reports the first failing field and rule with the message every path uses', () => {
  const checker = new ValidationChecker(spec())
  assert.deepEqual(checker.check({ event_type: 'scroll' }), { reason: 'constraint "types": field "event_type": rule enum: must be one of ["click","view"]', field: 'event_type', rule: 'enum' })
  assert.deepEqual(checker.check({ value: 1 }), { reason: 'constraint "types": field "event_type": rule required: is required', field: 'event_type', rule: 'required' })
  assert.deepEqual(checker.check({ event_type: 'view', value: -2 }), { reason: 'constraint "types": field "value": rule min: must be >= 0', field: 'value', rule: 'min' })
})

test('a validation violation found on demand keeps the constraint action and throws ValidationError with field and rule', () => {
  assert.equal(new ValidationChecker(spec('drop')).onDemandAction, 'drop')
  const checker = new ValidationChecker(spec())
  assert.equal(checker.onDemandAction, 'dead_letter')
  const finding = checker.check({ event_type: 'scroll' })!
  const e = checker.error(finding, 'events')
  assert.ok(e instanceof ValidationError)
  assert.equal(e.message, finding.reason)
  assert.deepEqual(e.context, { pipeline: 'events', constraint: 'types', field: 'event_type', rule: 'enum' })
})
