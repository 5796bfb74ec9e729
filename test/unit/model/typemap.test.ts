import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Type, type TSchema } from '@sinclair/typebox'
import { Key, t } from '../../../src/model/schema.ts'
import { checkSchemaTypes, columnsOf } from '../../../src/model/typemap.ts'

const owner = { kind: 'table', name: 'events' } as const

/** ClickHouse type of a single required field `x`. */
function typeOf(field: TSchema): string {
  const columns = columnsOf(t.Object({ x: field }), owner)
  return columns[0]!.type
}

function rejects(fields: Record<string, TSchema>, message: string): void {
  assert.throws(() => columnsOf(t.Object(fields), owner), { name: 'ConfigError', code: 'CONFIG_INVALID', message })
}

describe('type mapping of supported types', () => {
  const cases: [string, TSchema, string][] = [
    ['t.String()', t.String(), 'String'],
    ['t.Number()', t.Number(), 'Float64'],
    ['t.Integer()', t.Integer(), 'Int64'],
    ['t.Boolean()', t.Boolean(), 'Bool'],
    ['t.Int8()', t.Int8(), 'Int8'],
    ['t.Int16()', t.Int16(), 'Int16'],
    ['t.Int32()', t.Int32(), 'Int32'],
    ['t.UInt8()', t.UInt8(), 'UInt8'],
    ['t.UInt16()', t.UInt16(), 'UInt16'],
    ['t.UInt32()', t.UInt32(), 'UInt32'],
    ['t.Int64()', t.Int64(), 'Int64'],
    ['t.UInt64()', t.UInt64(), 'UInt64'],
    ['t.Int128()', t.Int128(), 'Int128'],
    ['t.UInt128()', t.UInt128(), 'UInt128'],
    ['t.Int256()', t.Int256(), 'Int256'],
    ['t.UInt256()', t.UInt256(), 'UInt256'],
    ['t.Float32()', t.Float32(), 'Float32'],
    ['t.DateTime()', t.DateTime(), "DateTime64(3, 'UTC')"],
    ['t.Date()', t.Date(), 'Date32'],
    ["t.String({ format: 'date-time' })", t.String({ format: 'date-time' }), "DateTime64(3, 'UTC')"],
    ["t.String({ format: 'date' })", t.String({ format: 'date' }), 'Date32'],
    ["t.String({ format: 'email' })", t.String({ format: 'email' }), 'String'],
    ['t.LowCardinality(t.String())', t.LowCardinality(t.String()), 'LowCardinality(String)'],
    ['a union of string literals', t.Union([t.Literal('a'), t.Literal('b')]), "Enum8('a' = 1, 'b' = 2)"],
    ['a string enum', t.Enum({ A: 'a', B: 'b' }), "Enum8('a' = 1, 'b' = 2)"],
    ['a JSON Schema string enum', Type.Unsafe<string>({ type: 'string', enum: ['x', 'y'] }), "Enum8('x' = 1, 'y' = 2)"],
    ['one string literal', t.Literal('only'), "Enum8('only' = 1)"],
    ['enum values with quotes and backslashes', t.Union([t.Literal("it's"), t.Literal('a\\b')]), "Enum8('it\\'s' = 1, 'a\\\\b' = 2)"],
    ['a boolean literal', t.Literal(true), 'Bool'],
    ['t.Array(t.String())', t.Array(t.String()), 'Array(String)'],
    ['an array of arrays', t.Array(t.Array(t.Int32())), 'Array(Array(Int32))'],
    ['an array of nullable strings', t.Array(t.Nullable(t.String())), 'Array(Nullable(String))'],
    ['an array of objects', t.Array(t.Object({ code: t.String() })), 'Array(Tuple(code String))'],
    ['a nested object', t.Object({ a: t.String(), b: t.Number() }), 'Tuple(a String, b Float64)'],
    ['a nested object with an optional field', t.Object({ a: t.Optional(t.String()) }), 'Tuple(a Nullable(String))'],
    ['a nested object inside a nested object', t.Object({ a: t.Object({ b: t.Boolean() }) }), 'Tuple(a Tuple(b Bool))'],
    ['t.Nullable(t.String())', t.Nullable(t.String()), 'Nullable(String)'],
    ['Type.Union([T, Type.Null()])', Type.Union([Type.Number(), Type.Null()]), 'Nullable(Float64)'],
    ["type: ['string', 'null']", Type.Unsafe<string | null>({ type: ['string', 'null'] }), 'Nullable(String)'],
    ['a nullable enum', t.Union([t.Literal('a'), t.Literal('b'), t.Null()]), "Nullable(Enum8('a' = 1, 'b' = 2))"],
    ['a nullable LowCardinality string', t.LowCardinality(t.Nullable(t.String())), 'LowCardinality(Nullable(String))'],
    ['Key(t.String())', Key(t.String()), 'String'],
    ['Key(t.Int32())', Key(t.Int32()), 'Int32'],
  ]
  for (const [name, schema, expected] of cases) {
    test(`${name} maps to ${expected}`, () => assert.equal(typeOf(schema), expected))
  }

  test('an optional scalar field maps to Nullable(T)', () => {
    assert.deepEqual(columnsOf(t.Object({ a: t.Optional(t.Int16()) }), owner), [{ name: 'a', type: 'Nullable(Int16)' }])
  })

  test('an optional LowCardinality string maps to LowCardinality(Nullable(String))', () => {
    assert.equal(columnsOf(t.Object({ a: t.Optional(t.LowCardinality(t.String())) }), owner)[0]!.type, 'LowCardinality(Nullable(String))')
  })

  test('an optional nullable field is Nullable once', () => {
    assert.equal(columnsOf(t.Object({ a: t.Optional(t.Nullable(t.String())) }), owner)[0]!.type, 'Nullable(String)')
  })

  test('an optional enum maps to Nullable(Enum8)', () => {
    assert.equal(columnsOf(t.Object({ a: t.Optional(t.Union([t.Literal('x'), t.Literal('y')])) }), owner)[0]!.type, "Nullable(Enum8('x' = 1, 'y' = 2))")
  })

  test('an enum of 128 values maps to Enum16 and one of 127 values to Enum8', () => {
    const values = (n: number) => t.Union(Array.from({ length: n }, (_, i) => t.Literal(`v${i}`)))
    assert.match(typeOf(values(127)), /^Enum8\('v0' = 1, .*'v126' = 127\)$/)
    assert.match(typeOf(values(128)), /^Enum16\('v0' = 1, .*'v127' = 128\)$/)
  })

  test('any JSON key is a field name and the column of the same name; nested keys are quoted tuple elements', () => {
    const schema = t.Object({ 'Rotten Tomatoes Rating': t.Optional(t.Number()), 'unit-price': t.Number(), geo: t.Object({ 'lat`x': t.Number(), ok: t.String() }) })
    assert.deepEqual(columnsOf(schema, owner), [
      { name: 'Rotten Tomatoes Rating', type: 'Nullable(Float64)' },
      { name: 'unit-price', type: 'Float64' },
      { name: 'geo', type: 'Tuple(`lat\\`x` Float64, ok String)' },
    ])
  })

  test('similar field names stay distinct columns in schema order', () => {
    const schema = t.Object({ ppm1: t.Number(), ppm2: t.Number(), ppm3: t.Number(), ppm10: t.Number() })
    assert.deepEqual(columnsOf(schema, owner), [
      { name: 'ppm1', type: 'Float64' },
      { name: 'ppm2', type: 'Float64' },
      { name: 'ppm3', type: 'Float64' },
      { name: 'ppm10', type: 'Float64' },
    ])
  })

  test('an optional array is accepted by checkSchemaTypes when nullable arrays are allowed', () => {
    assert.doesNotThrow(() => checkSchemaTypes(t.Object({ tags: t.Optional(t.Array(t.String())) }), owner, { nullableArrays: true }))
  })
})

describe('type mapping rejects unsupported types', () => {
  test('any is rejected', () => {
    rejects({ x: t.Any() }, 'table "events": field "x": any/unknown is not supported; give the field a concrete type such as t.String() or t.Number()')
  })

  test('unknown is rejected', () => {
    rejects({ x: t.Unknown() }, 'table "events": field "x": any/unknown is not supported; give the field a concrete type such as t.String() or t.Number()')
  })

  test('a union other than optional/nullable or string literals is rejected', () => {
    rejects({ x: t.Union([t.String(), t.Number()]) }, 'table "events": field "x": unions are not supported except T | null and unions of string literals; split "x" into one field per type, or use one type for all values')
  })

  test('a nullable union of two types is rejected', () => {
    rejects({ x: t.Union([t.String(), t.Number(), t.Null()]) }, 'table "events": field "x": unions are not supported except T | null and unions of string literals; split "x" into one field per type, or use one type for all values')
  })

  test('an enum with numeric values is rejected', () => {
    rejects({ x: t.Enum({ A: 1, B: 2 }) }, "table \"events\": field \"x\": enum values must be strings (got 1); use string values, e.g. t.Union([t.Literal('a'), t.Literal('b')])")
  })

  test('an enum that lists a value twice is rejected', () => {
    rejects({ x: Type.Unsafe<string>({ type: 'string', enum: ['a', 'a'] }) }, 'table "events": field "x": enum value "a" appears twice; list each value once')
  })

  test('an enum of more than 32767 values is rejected', () => {
    const values = Array.from({ length: 32_768 }, (_, i) => `v${i}`)
    rejects({ x: Type.Unsafe<string>({ type: 'string', enum: values }) }, 'table "events": field "x": enums may have at most 32767 values (got 32768); use t.LowCardinality(t.String()) instead')
  })

  test('a tuple is rejected', () => {
    rejects({ x: t.Tuple([t.String(), t.Number()]) }, 'table "events": field "x": tuples are not supported; use an object with named fields, or an array whose elements all have one type')
  })

  test('bytes (Uint8Array) are rejected', () => {
    rejects({ x: t.Uint8Array() }, 'table "events": field "x": bytes (Uint8Array) are not supported; send the bytes as a base64 or hex t.String()')
  })

  test('a Record (mapped type) is rejected', () => {
    rejects({ x: t.Record(t.String(), t.Number()) }, 'table "events": field "x": mapped types (t.Record, patternProperties, additionalProperties schemas) are not supported; declare each field of "x" explicitly in t.Object({ ... })')
  })

  test('an object with an additionalProperties schema is rejected', () => {
    rejects({ x: t.Object({ a: t.String() }, { additionalProperties: t.Number() }) }, 'table "events": field "x": mapped types (t.Record, patternProperties, additionalProperties schemas) are not supported; declare each field of "x" explicitly in t.Object({ ... })')
  })

  test('null as a direct type is rejected', () => {
    rejects({ x: t.Null() }, 'table "events": field "x": null is not a type on its own; make "x" optional with t.Optional(T), or nullable with t.Nullable(T)')
  })

  test('an optional object is rejected', () => {
    rejects({ x: t.Optional(t.Object({ a: t.String() })) }, 'table "events": field "x": optional or nullable objects are not supported (ClickHouse has no Nullable(Tuple)); make "x" required, or move its fields up as optional fields')
  })

  test('a nullable object is rejected', () => {
    rejects({ x: t.Nullable(t.Object({ a: t.String() })) }, 'table "events": field "x": optional or nullable objects are not supported (ClickHouse has no Nullable(Tuple)); make "x" required, or move its fields up as optional fields')
  })

  test('an optional array is rejected for a table with the ClickHouse reason', () => {
    rejects({ tags: t.Optional(t.Array(t.String())) }, 'table "events": field "tags": optional or nullable arrays cannot be ClickHouse columns (Nested type Array(String) cannot be inside Nullable type); make "tags" required and send [] for none')
  })

  test('an optional array inside a nested object is rejected for a table', () => {
    rejects({ x: t.Object({ tags: t.Optional(t.Array(t.String())) }) }, 'table "events": field "x.tags": optional or nullable arrays cannot be ClickHouse columns (Nested type Array(String) cannot be inside Nullable type); make "x.tags" required and send [] for none')
  })

  test('an array of nullable arrays is rejected', () => {
    rejects({ m: t.Array(t.Nullable(t.Array(t.Int32()))) }, 'table "events": field "m[]": nullable array elements must not be arrays (Nested type Array(Int32) cannot be inside Nullable type); make the elements of "m" non-nullable')
  })

  test('an array of nullable objects is rejected', () => {
    rejects({ m: t.Array(t.Nullable(t.Object({ a: t.String() }))) }, 'table "events": field "m[]": nullable array elements must not be objects (ClickHouse has no Nullable(Tuple)); make the elements of "m" non-nullable')
  })

  test('a JavaScript Date is rejected', () => {
    rejects({ x: Type.Date() }, "table \"events\": field \"x\": a JavaScript Date is not a JSON type; use t.DateTime() for an ISO 8601 date-time string or t.Date() for 'YYYY-MM-DD'")
  })

  test('a bigint is rejected in favour of decimal strings', () => {
    rejects({ x: t.BigInt() }, 'table "events": field "x": bigint is not a JSON type; carry large integers as decimal strings with t.Int64() or t.UInt64()')
  })

  test('an intersection is rejected', () => {
    rejects({ x: t.Intersect([t.Object({ a: t.String() }), t.Object({ b: t.String() })]) }, 'table "events": field "x": intersections are not supported; merge the objects into one with t.Composite([...])')
  })

  test('a reference is rejected', () => {
    rejects({ x: t.Ref('Other') }, 'table "events": field "x": references and recursive types are not supported; inline the referenced schema')
  })

  test('a function type is rejected', () => {
    rejects({ x: t.Function([], t.String()) }, 'table "events": field "x": type Function is not supported; use string, number, integer, boolean, date/date-time, enum, array, object or an optional of these')
  })

  test('an array without an element type is rejected', () => {
    rejects({ x: Type.Unsafe<unknown[]>({ type: 'array' }) }, 'table "events": field "x": arrays must declare the type of their elements; use t.Array(T) with a concrete T')
  })

  test('a nested object without fields is rejected', () => {
    rejects({ x: t.Object({}) }, 'table "events": field "x": nested objects must declare at least one field; add fields to "x" or remove it')
  })

  test('LowCardinality of a non-string is rejected', () => {
    rejects({ x: t.LowCardinality(t.Int32()) }, 'table "events": field "x": LowCardinality applies to strings only (got Int32); wrap t.String() in t.LowCardinality, or remove t.LowCardinality')
  })

  test('an unknown x-clickhouse annotation is rejected', () => {
    rejects({ x: t.String({ 'x-clickhouse': 'Decimal(10, 2)' }) }, 'table "events": field "x": unsupported x-clickhouse annotation "Decimal(10, 2)"; use the t.* helpers (t.Int32(), t.Int64(), t.Float32(), t.DateTime(), t.Date() ...) instead of writing the annotation by hand')
  })

  test('an x-clickhouse annotation on the wrong JSON type is rejected', () => {
    rejects({ x: t.Number({ 'x-clickhouse': 'Int32' }) }, 'table "events": field "x": x-clickhouse Int32 needs JSON type integer (got "number"); use the t.* helpers instead of writing the annotation by hand')
  })

  test('an empty field name is rejected', () => {
    rejects({ '': t.String() }, 'table "events": field "": field names must not be empty; give the field a name')
  })

  test('a schema that is not an object with fields is rejected', () => {
    assert.throws(() => columnsOf(t.String(), owner), { message: 'table "events": the schema must be an object with at least one field; declare it as t.Object({ ... }) with one property per column' })
    assert.throws(() => columnsOf(t.Object({}), owner), { message: 'table "events": the schema must be an object with at least one field; declare it as t.Object({ ... }) with one property per column' })
  })

  test('a type error carries the owner, field and rule as context', () => {
    assert.throws(() => columnsOf(t.Object({ x: t.Any() }), owner), (error: { context: unknown }) => {
      assert.deepEqual(error.context, { table: 'events', field: 'x', rule: 'type' })
      return true
    })
  })
})
