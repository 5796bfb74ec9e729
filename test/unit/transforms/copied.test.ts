import assert from 'node:assert/strict'
import { test } from 'node:test'
import { t } from '../../../src/model/schema.ts'
import { outputCheck } from '../../../src/transforms/copied.ts'

const Input = t.Object({ id: t.String(), date: t.DateTime(), delay: t.Int32(), code: t.String({ pattern: '^[A-Z]{3}$' }) })
const Output = t.Object({ ...Input.properties, code: t.String(), delayed: t.Boolean() })

test('only fields declared with the same schema in input and output may skip the output check', () => {
  assert.deepEqual(outputCheck(Input, Output).keys, ['id', 'date', 'delay'])
})

test('a field copied unchanged from the validated input is not checked again, the others are', () => {
  const check = outputCheck(Input, Output)
  // A date the output check would refuse: skipped only because the input held the very same value.
  const record = { id: 'a', date: 'not a date', delay: 3, code: 'LAS' }
  const before = check.snapshot(record)
  const copied = check.validatorFor({ ...record, delayed: false }, before)
  assert.equal(copied({ ...record, delayed: false }), true)
  assert.equal(copied({ ...record, delayed: 'no' }), false, 'a new field is still checked')
  const { delay: _, ...withoutDelay } = record
  assert.equal(check.validatorFor(withoutDelay, before)(withoutDelay), false, 'a required field that is missing is still refused')
})

test('a field the transform changed, even by mutating its input record, is checked against the output schema', () => {
  const check = outputCheck(Input, Output)
  const record: Record<string, unknown> = { id: 'a', date: '2001-01-01T00:00:00Z', delay: 3, code: 'LAS' }
  const before = check.snapshot(record)
  record.date = 'not a date'
  const output = { ...record, delayed: false }
  assert.equal(check.validatorFor(output, before)(output), false)
  assert.equal(check.validatorFor(output, before), check.validatorFor({ ...output }, before), 'one validator per set of skipped fields')
})

test('an output that is not an object gets the full output validator', () => {
  const check = outputCheck(Input, Output)
  const validate = check.validatorFor('text', check.snapshot({ id: 'a' }))
  assert.equal(validate('text'), false)
})

test('at most 30 copied fields skip the check: a schema with more checks the rest every time', () => {
  const Wide = t.Object(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, t.DateTime()])))
  const check = outputCheck(Wide, Wide)
  assert.equal(check.keys.length, 30)
  // Dates the full check refuses, copied unchanged: the first 30 are skipped, the 31st is not.
  const record = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, i === 30 ? 'not a date' : '2001-01-01T00:00:00Z']))
  const output = { ...record }
  assert.equal(check.validatorFor(output, check.snapshot(record))(output), false)
  const skipped = { ...record, f30: '2001-01-01T00:00:00Z', f0: 'not a date' }
  assert.equal(check.validatorFor(skipped, check.snapshot(skipped))(skipped), true, 'f0 was copied as it came')
})
