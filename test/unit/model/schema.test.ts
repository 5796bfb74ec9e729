import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Key, compileValidator, createAjv, t, type Static } from '../../../src/model/schema.ts'

/** The schema as JSON Schema, without TypeBox's symbol properties. */
function json(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema))
}

describe('schema DSL', () => {
  test('small integer helpers are JSON integers with the bounds of their width', () => {
    assert.deepEqual(json(t.Int8()), { type: 'integer', minimum: -128, maximum: 127, 'x-clickhouse': 'Int8' })
    assert.deepEqual(json(t.UInt32()), { type: 'integer', minimum: 0, maximum: 4_294_967_295, 'x-clickhouse': 'UInt32' })
  })

  test('large integer helpers are decimal strings with a pattern', () => {
    assert.deepEqual(json(t.Int64()), { type: 'string', pattern: '^-?[0-9]+$', minLength: 1, maxLength: 20, 'x-clickhouse': 'Int64' })
    assert.deepEqual(json(t.UInt256()), { type: 'string', pattern: '^[0-9]+$', minLength: 1, maxLength: 78, 'x-clickhouse': 'UInt256' })
  })

  test('t.DateTime and t.Date are strings with a format and a ClickHouse type', () => {
    assert.deepEqual(json(t.DateTime()), { type: 'string', format: 'date-time', 'x-clickhouse': "DateTime64(3, 'UTC')" })
    assert.deepEqual(json(t.Date()), { type: 'string', format: 'date', 'x-clickhouse': 'Date32' })
  })

  test('helpers keep options such as a description', () => {
    assert.equal(t.Int32({ description: 'delay in minutes' }).description, 'delay in minutes')
  })

  test('t keeps every TypeBox builder', () => {
    assert.deepEqual(json(t.Object({ a: t.String() })), { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] })
    assert.deepEqual(json(t.Array(t.Boolean())), { type: 'array', items: { type: 'boolean' } })
  })

  test('Key copies the schema with x-key and leaves the original untouched', () => {
    const inner = t.String()
    const key = Key(inner)
    assert.equal((key as Record<string, unknown>)['x-key'], true)
    assert.equal((inner as Record<string, unknown>)['x-key'], undefined)
  })

  test('record types are inferred from schemas', () => {
    const schema = t.Object({ id: Key(t.String()), n: t.Int32(), big: t.Int64(), at: t.DateTime(), note: t.Optional(t.String()), gone: t.Nullable(t.Number()) })
    const record: Static<typeof schema> = { id: 'a', n: 1, big: '9007199254740993', at: '2001-01-01T00:00:00Z', gone: null }
    assert.equal(record.big, '9007199254740993')
  })
})

describe('record validation', () => {
  const schema = t.Object({
    id: Key(t.String()),
    delay: t.Int16(),
    big: t.Int64(),
    count: t.UInt64(),
    at: t.DateTime(),
    day: t.Date(),
    kind: t.Union([t.Literal('a'), t.Literal('b')]),
    note: t.Optional(t.LowCardinality(t.String())),
  })
  const valid = { id: 'x', delay: -5, big: '-9223372036854775808', count: '18446744073709551615', at: '2001-01-05T06:07:08Z', day: '2001-01-05', kind: 'a' }

  test('a valid record passes', () => {
    const validate = compileValidator(schema)
    assert.equal(validate(valid), true, JSON.stringify(validate.errors))
  })

  test('the compiled validator is reused for the same schema object', () => {
    assert.equal(compileValidator(schema), compileValidator(schema))
  })

  test('a different schema object gets its own validator', () => {
    assert.notEqual(compileValidator(t.Object({ a: t.String() })), compileValidator(t.Object({ a: t.String() })))
  })

  test('an Int64 string outside the Int64 range is rejected with the range in the message', () => {
    const validate = compileValidator(schema)
    assert.equal(validate({ ...valid, big: '9223372036854775808' }), false)
    assert.deepEqual(
      validate.errors?.map((error) => [error.instancePath, error.message]),
      [['/big', 'must be within Int64 range [-9223372036854775808, 9223372036854775807]']],
    )
  })

  test('a UInt64 string with a sign or a JSON number is rejected', () => {
    const validate = compileValidator(schema)
    assert.equal(validate({ ...valid, count: '-1' }), false)
    assert.equal(validate({ ...valid, count: 1 }), false)
  })

  test('an integer outside its width is rejected', () => {
    const validate = compileValidator(schema)
    assert.equal(validate({ ...valid, delay: 40_000 }), false)
    assert.equal(validate({ ...valid, delay: 1.5 }), false)
  })

  test('an annotated integer without bounds is still range-checked by the x-clickhouse keyword', () => {
    const validate = createAjv().compile(t.Object({ a: t.Integer({ 'x-clickhouse': 'UInt8' }) }))
    assert.equal(validate({ a: 255 }), true)
    assert.equal(validate({ a: 256 }), false)
  })

  test('date-time needs a time zone and date needs YYYY-MM-DD', () => {
    const validate = compileValidator(schema)
    assert.equal(validate({ ...valid, at: '2001-01-05 06:07:08' }), false)
    assert.equal(validate({ ...valid, day: '2001-1-5' }), false)
  })

  test('remembered date-time verdicts stay those of the full check (calendar, time zone), also after the memory fills', () => {
    const validate = createAjv().compile(t.Object({ at: t.DateTime(), day: t.Date() }))
    const verdicts = () => [
      validate({ at: '2001-02-28T06:07:08Z', day: '2004-02-29' }),
      validate({ at: '2001-02-29T06:07:08Z', day: '2004-02-29' }),
      validate({ at: '2001-02-28T06:07:08Z', day: '2001-02-29' }),
      validate({ at: '2001-02-28T24:07:08Z', day: '2004-02-29' }),
      validate({ at: '2001-02-28T06:07:08', day: '2004-02-29' }),
    ]
    const expected = [true, false, false, false, false]
    assert.deepEqual(verdicts(), expected)
    assert.deepEqual(verdicts(), expected, 'the same texts again, answered from memory')
    for (let i = 0; i < 10_000; i++) validate({ at: new Date(Date.UTC(2001, 0, 1) + i * 1000).toISOString(), day: '2004-02-29' })
    assert.deepEqual(verdicts(), expected, 'after more distinct texts than the memory keeps')
  })

  test('every error of a record is reported, not just the first', () => {
    const validate = compileValidator(schema)
    assert.equal(validate({ ...valid, kind: 'c', delay: 'x', day: 5 }), false)
    const paths = new Set(validate.errors?.map((error) => error.instancePath))
    assert.deepEqual([...paths].sort(), ['/day', '/delay', '/kind'])
  })

  test('strict mode accepts the flowhouse keywords', () => {
    assert.doesNotThrow(() => createAjv().compile(t.Object({ id: Key(t.LowCardinality(t.String())), at: t.DateTime() })))
  })
})
