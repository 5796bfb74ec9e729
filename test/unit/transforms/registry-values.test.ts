import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, test } from 'node:test'
import { Key, t } from '../../../src/model/schema.ts'
import { AVRO_LOGICAL_TYPES, avroTypeHook } from '../../../src/transforms/avro-types.ts'
import { coerceToSchema, toPlain, TooDeep } from '../../../src/transforms/normalize.ts'

const require = createRequire(import.meta.url)
interface AvroType { toBuffer(value: unknown): Buffer; fromBuffer(buffer: Buffer): unknown }
const avsc = createRequire(require.resolve('@kafkajs/confluent-schema-registry'))('avsc') as { Type: { forSchema(schema: unknown, opts: unknown): AvroType } }

function avro(type: unknown): AvroType {
  return avsc.Type.forSchema(type, { logicalTypes: AVRO_LOGICAL_TYPES })
}

describe('Avro long over the signed 64-bit range', () => {
  const hooked = (type: unknown) => avsc.Type.forSchema(type, { logicalTypes: AVRO_LOGICAL_TYPES, typeHook: avroTypeHook })
  const long = hooked('long')
  const plain = avro('long')

  test('reads what avsc writes: numbers up to ±(2^53 - 1), bigints beyond, across every varint length', () => {
    for (let bits = 0; bits <= 52; bits++) for (const n of [2 ** bits - 1, -(2 ** bits), 2 ** bits]) if (Number.isSafeInteger(n)) assert.equal(long.fromBuffer(plain.toBuffer(n)), n, `${n}`)
    assert.equal(long.fromBuffer(long.toBuffer('9007199254740993')), 9007199254740993n)
    assert.equal(long.fromBuffer(long.toBuffer(9223372036854775807n)), 9223372036854775807n)
    assert.equal(long.fromBuffer(long.toBuffer('-9223372036854775808')), -9223372036854775808n)
    assert.equal(long.fromBuffer(long.toBuffer(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER)
    // The bytes are Avro's: avsc's own long reads what this one writes for safe values.
    assert.equal(plain.fromBuffer(long.toBuffer(-123_456_789_012)), -123_456_789_012)
    assert.throws(() => plain.fromBuffer(long.toBuffer('9007199254740993')), /precision loss/)
  })

  test('a record with a long beyond 2^53 becomes decimal text an Int64 column takes; a value outside 64 bits is refused', () => {
    const record = hooked({ type: 'record', name: 'R', fields: [{ name: 'id', type: 'long' }, { name: 'n', type: ['null', 'long'] }, { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }] })
    const decoded = toPlain(record.fromBuffer(record.toBuffer({ id: '1234567890123456789', n: 5, at: '2024-03-05T06:07:08.123Z' })), 32)
    assert.deepEqual(decoded, { id: '1234567890123456789', n: 5, at: '2024-03-05T06:07:08.123Z' })
    assert.deepEqual(coerceToSchema(t.Object({ id: Key(t.Int64()), n: t.Int64(), at: t.DateTime() }), decoded), { id: '1234567890123456789', n: '5', at: '2024-03-05T06:07:08.123Z' })
    assert.throws(() => long.toBuffer('9223372036854775808'), /invalid "long": "9223372036854775808"/)
    assert.throws(() => long.toBuffer(1.5), /invalid "long": 1.5/)
  })
})

describe('Avro logical types', () => {
  test('timestamp-millis and timestamp-micros decode to ISO-8601 UTC text and encode from it', () => {
    const millis = avro({ type: 'long', logicalType: 'timestamp-millis' })
    assert.equal(millis.fromBuffer(millis.toBuffer('2024-03-05T06:07:08.123Z')), '2024-03-05T06:07:08.123Z')
    assert.equal(millis.fromBuffer(avro('long').toBuffer(0)), '1970-01-01T00:00:00.000Z')
    const micros = avro({ type: 'long', logicalType: 'timestamp-micros' })
    assert.equal(micros.fromBuffer(avro('long').toBuffer(1_709_618_828_123_456)), '2024-03-05T06:07:08.123456Z')
    assert.equal(micros.fromBuffer(micros.toBuffer('2024-03-05T06:07:08.123456Z')), '2024-03-05T06:07:08.123456Z')
  })

  test('date decodes days since the epoch to YYYY-MM-DD', () => {
    const date = avro({ type: 'int', logicalType: 'date' })
    assert.equal(date.fromBuffer(avro('int').toBuffer(19_787)), '2024-03-05')
    assert.equal(date.fromBuffer(date.toBuffer('1969-12-31')), '1969-12-31')
  })

  test('decimal decodes two-complement bytes with its scale to decimal text', () => {
    const bytes = avro({ type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 })
    for (const text of ['-12.50', '0.05', '1234567.89', '-0.01', '128.00', '-128.00']) assert.equal(bytes.fromBuffer(bytes.toBuffer(text)), text)
    assert.equal(bytes.fromBuffer(avro('bytes').toBuffer(Buffer.from([0xfb, 0x1e]))), '-12.50')
    const fixed = avro({ type: 'fixed', name: 'D', size: 8, logicalType: 'decimal', precision: 18, scale: 0 })
    assert.equal(fixed.fromBuffer(fixed.toBuffer('-42')), '-42')
  })
})

describe('decoded values to JSON', () => {
  test('bytes become base64, bigint decimal text, Date ISO text, Maps and class instances plain objects', () => {
    class Rec {
      constructor(readonly a: number) {}
    }
    const plain = toPlain({ b: Buffer.from('ab'), n: 12n, d: new Date(0), m: new Map([['k', 1]]), r: new Rec(1), list: [new Uint8Array([1])], none: undefined }, 64)
    assert.deepEqual(plain, { b: 'YWI=', n: '12', d: '1970-01-01T00:00:00.000Z', m: { k: 1 }, r: { a: 1 }, list: ['AQ=='], none: null })
    assert.deepEqual(toPlain({ toJSON: () => ({ id: '9007199254740993' }) }, 64), { id: '9007199254740993' })
  })

  test('a value nested deeper than the bound throws TooDeep', () => {
    assert.throws(() => toPlain({ a: { b: { c: {} } } }, 2), TooDeep)
    assert.deepEqual(toPlain({ a: { b: 1 } }, 2), { a: { b: 1 } })
  })

  test('numbers become text where the schema wants a string, integer text a number where it wants an integer', () => {
    const schema = t.Object({ id: Key(t.String()), big: t.Int64(), count: t.Integer(), tags: t.Array(t.Int64()), inner: t.Optional(t.Object({ n: t.Int32() })) })
    const value = { id: 7, big: 9_007_199_254_740_000, count: '42', tags: [1, 2], inner: { n: '3' }, extra: 5 }
    assert.deepEqual(coerceToSchema(schema, value), { id: '7', big: '9007199254740000', count: 42, tags: ['1', '2'], inner: { n: 3 }, extra: 5 })
    assert.deepEqual(coerceToSchema(schema, { id: 'x', count: '12345678901234567890' }), { id: 'x', count: '12345678901234567890' })
  })
})
