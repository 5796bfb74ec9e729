import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkRecord, compileValidator, t } from '../../../src/model/schema.ts'
import { describeErrors, fieldErrors } from '../../../src/util/ajv-errors.ts'

const schema = t.Object({
  id: t.String(),
  kind: t.Union([t.Literal('a'), t.Literal('b')]),
  tags: t.Array(t.String()),
  route: t.Object({ origin: t.String() }),
})

test('validation errors name nested fields, array elements and missing properties', () => {
  const validate = compileValidator(schema)
  assert.equal(validate({ kind: 'a', tags: ['x', 3], route: { origin: 1 } }), false)
  assert.deepEqual(
    fieldErrors(validate.errors).map((e) => [e.field, e.reason]),
    [
      ['id', 'is missing, expected string'],
      ['tags[1]', 'got number 3, expected string'],
      ['route.origin', 'got number 1, expected string'],
    ],
  )
  assert.equal(describeErrors(validate.errors), 'field "id": is missing, expected string\nfield "tags[1]": got number 3, expected string\nfield "route.origin": got number 1, expected string')
})

test('an invalid enum value is one line listing the allowed values, not one message per literal', () => {
  const validate = compileValidator(schema)
  assert.equal(validate({ id: 'x', kind: 'c', tags: [], route: { origin: 'SFO' } }), false)
  assert.equal(describeErrors(validate.errors), 'field "kind": got string "c", expected one of "a", "b"')
})

test('a null where the schema has no null says so, and names what was expected', () => {
  const validate = compileValidator(t.Object({ 'US Gross': t.Number(), genre: t.Union([t.Literal('Drama'), t.Literal('Comedy')]), when: t.DateTime() }))
  assert.equal(validate({ 'US Gross': null, genre: null, when: null }), false)
  assert.equal(
    describeErrors(validate.errors),
    ['field "US Gross": got null, expected number', 'field "genre": got null, expected one of "Drama", "Comedy"', 'field "when": got null, expected date-time string (RFC 3339)'].join('\n'),
  )
})

test('a bad field inside a nullable object is reported at the field, not as a failed union', () => {
  const validate = compileValidator(t.Object({ properties: t.Optional(t.Object({ mag: t.Number(), place: t.String() })) }))
  assert.equal(validate({ properties: { mag: 'big', place: 'Here' } }), false)
  assert.equal(describeErrors(validate.errors), 'field "properties.mag": got string "big", expected number')
  assert.equal(validate({ properties: 7 }), false)
  assert.equal(describeErrors(validate.errors), 'field "properties": got number 7, expected object or null')
})

test('integer widths, formats and the record itself have their own wording', () => {
  const validate = compileValidator(t.Object({ n: t.Int32(), big: t.Int64(), day: t.Date() }))
  assert.equal(validate({ n: 2 ** 31, big: 5, day: '2001-13-45' }), false)
  assert.equal(
    describeErrors(validate.errors),
    ['field "n": got number 2147483648, expected integer within Int32 range [-2147483648, 2147483647]', 'field "big": got number 5, expected decimal string (Int64)', 'field "day": got string "2001-13-45", expected date string (YYYY-MM-DD)'].join('\n'),
  )
  assert.equal(validate('x'), false)
  assert.equal(describeErrors(validate.errors), 'record: got string "x", expected object')
})

test('t.Optional accepts a missing field and null; t.Nullable accepts null but needs the field', () => {
  const s = t.Object({ id: t.String(), gross: t.Optional(t.Number()), rating: t.Nullable(t.Number()) })
  const validate = compileValidator(s)
  assert.equal(validate({ id: 'a', gross: null, rating: null }), true)
  assert.equal(validate({ id: 'a', rating: 1 }), true)
  assert.equal(validate({ id: 'a', gross: 2 }), false)
  assert.equal(describeErrors(validate.errors), 'field "rating": is missing, expected number or null')
})

test('fields not in the schema are ignored and reported under ignore, and dead-letter the record under dead_letter', () => {
  const s = t.Object({ id: t.String(), geo: t.Optional(t.Object({ lat: t.Number() })) })
  const record = { id: 'a', extra: 1, geo: { lat: 1, alt: 2 } }
  assert.deepEqual(checkRecord(s, record), { outcome: 'unknown_fields', fields: ['extra', 'geo.alt'] })
  assert.deepEqual(checkRecord(s, { id: 'a' }, 'dead_letter'), { outcome: 'valid' })
  const refused = checkRecord(s, record, 'dead_letter')
  assert.equal(refused.outcome, 'invalid')
  assert.deepEqual(refused.outcome === 'invalid' && [refused.errorType, describeErrorsOf(refused.errors)], ['unknown_fields', 'field "extra": is not in the schema\nfield "geo.alt": is not in the schema'])
  const both = checkRecord(s, { id: 3, extra: 1 })
  assert.deepEqual(both.outcome === 'invalid' && [both.errorType, describeErrorsOf(both.errors)], ['schema', 'field "id": got number 3, expected string'])
})

function describeErrorsOf(errors: readonly { field: string; reason: string }[]): string {
  return errors.map((e) => `field "${e.field}": ${e.reason}`).join('\n')
}
