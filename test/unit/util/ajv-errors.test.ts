import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileValidator, t } from '../../../src/model/schema.ts'
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
      ['id', 'is required'],
      ['tags[1]', 'must be string'],
      ['route.origin', 'must be string'],
    ],
  )
  assert.equal(describeErrors(validate.errors), 'field "id": is required; field "tags[1]": must be string; field "route.origin": must be string')
})
