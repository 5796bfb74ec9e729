import assert from 'node:assert/strict'
import { test } from 'node:test'
import { avroSchemaOf } from '../../../src/model/avro.ts'
import { Key, t } from '../../../src/model/schema.ts'

test('the Avro schema of a pipeline schema maps each type, optional fields to unions with null and nested objects to records', () => {
  const schema = t.Object({
    id: Key(t.String()),
    at: t.DateTime(),
    day: t.Date(),
    small: t.Int16(),
    distance: t.UInt32(),
    count: t.Integer(),
    big: t.Int64(),
    huge: t.UInt64(),
    ratio: t.Number(),
    f: t.Float32(),
    ok: t.Boolean(),
    kind: t.Union([t.Literal('a'), t.Literal('b')]),
    tags: t.Array(t.String()),
    note: t.Optional(t.String()),
    maybe: t.Nullable(t.Int32()),
    place: t.Object({ city: t.LowCardinality(t.String()) }),
  })
  assert.deepEqual(avroSchemaOf('flights', schema), {
    type: 'record',
    name: 'flights',
    namespace: 'flowhouse',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
      { name: 'day', type: { type: 'int', logicalType: 'date' } },
      { name: 'small', type: 'int' },
      { name: 'distance', type: 'long' },
      { name: 'count', type: 'long' },
      { name: 'big', type: 'long' },
      { name: 'huge', type: 'string' },
      { name: 'ratio', type: 'double' },
      { name: 'f', type: 'float' },
      { name: 'ok', type: 'boolean' },
      { name: 'kind', type: { type: 'enum', name: 'flights_kind', symbols: ['a', 'b'] } },
      { name: 'tags', type: { type: 'array', items: 'string' } },
      { name: 'note', type: ['null', 'string'], default: null },
      { name: 'maybe', type: ['null', 'int'], default: null },
      { name: 'place', type: { type: 'record', name: 'flights_place', fields: [{ name: 'city', type: 'string' }] } },
    ],
  })
})
