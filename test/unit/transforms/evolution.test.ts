import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, test } from 'node:test'
import { diffColumns } from '../../../src/clickhouse/columns.ts'
import { addColumnSql } from '../../../src/clickhouse/ddl.ts'
import { IngestPipeline } from '../../../src/model/pipeline.ts'
import { Key, recordChecker, t } from '../../../src/model/schema.ts'
import { AVRO_LOGICAL_TYPES } from '../../../src/transforms/avro-types.ts'
import { writerView } from '../../../src/transforms/evolution.ts'
import { avroFields, avroToSchema, type AvroType } from '../../../src/transforms/writer-fields.ts'

const require = createRequire(import.meta.url)
const avsc = createRequire(require.resolve('@kafkajs/confluent-schema-registry'))('avsc') as { Type: { forSchema(schema: unknown, opts: unknown): AvroType } }
const avro = (schema: unknown): AvroType => avsc.Type.forSchema(schema, { logicalTypes: AVRO_LOGICAL_TYPES })
const record = (fields: unknown[]) => {
  const type = avro({ type: 'record', name: 'Order', namespace: 'test', fields })
  return () => avroFields(type)
}

let n = 0
function stream() {
  const schema = t.Object({ id: Key(t.String()), amount: t.Int32(), total: t.Integer(), label: t.String(), note: t.Optional(t.String()) })
  return new IngestPipeline(`orders_${n++}`, { schema, format: { schemaRegistry: { url: 'http://127.0.0.1:1' } } }).stream
}
const V1 = [
  { name: 'id', type: 'string' },
  { name: 'amount', type: 'int' },
  { name: 'total', type: 'int' },
  { name: 'label', type: ['null', 'long'] },
]

describe('writerView: a writer schema against the pipeline schema', () => {
  test('the same fields, a widened integer, a number read as text and a missing optional field change nothing', () => {
    const s = stream()
    const view = writerView(s, record(V1), 1)
    assert.equal(view.schema, s.schema)
    assert.deepEqual(view.dropped, [])
    assert.equal(view.evolution, undefined)
  })

  test('an Avro long read into a narrower integer or a text-typed Int64, and a timestamp into t.DateTime(), are not retypes', () => {
    const schema = t.Object({ id: Key(t.String()), distance: t.UInt32(), big: t.Int64(), at: t.DateTime(), price: t.String() })
    const s = new IngestPipeline(`flights_${n++}`, { schema, format: { schemaRegistry: { url: 'http://127.0.0.1:1' } } }).stream
    const writer = record([{ name: 'id', type: 'string' }, { name: 'distance', type: 'long' }, { name: 'big', type: 'long' }, { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }, { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 } }])
    const view = writerView(s, writer, 2)
    assert.equal(view.evolution, undefined)
    assert.deepEqual(view.dropped, [])
  })

  test('an added optional field and an added field with a default get columns marked with the schema id, and validate as their Avro types', () => {
    const s = stream()
    const writer = record([...V1, { name: 'channel', type: ['null', 'string'], default: null }, { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' }, default: 0 }, { name: 'tags', type: { type: 'array', items: 'string' }, default: [] }])
    const view = writerView(s, writer, 7, 'orders-value')
    const comment = 'flowhouse: added for schema registry schema id 7 (subject "orders-value")'
    assert.deepEqual(view.evolution, {
      schemaId: 7,
      subject: 'orders-value',
      columns: [
        { name: 'channel', type: 'Nullable(String)', comment },
        { name: 'at', type: "DateTime64(3, 'UTC')", comment },
        { name: 'tags', type: 'Array(String)', comment },
      ],
      problems: [],
    })
    const check = recordChecker(view.schema, 'dead_letter')
    assert.equal(check({ id: 'a', amount: 1, total: 2, label: '3', channel: 'web', at: '2024-03-05T06:07:08.123Z', tags: ['x'] }).outcome, 'valid')
    assert.equal(check({ id: 'a', amount: 1, total: 2, label: '3', channel: 5 }).outcome, 'invalid')
    // The pipeline's own schema still refuses the field: only this writer schema's view has it.
    assert.equal(recordChecker(s.schema, 'dead_letter')({ id: 'a', amount: 1, total: 2, label: '3', channel: 'web' }).outcome, 'invalid')
    assert.equal(writerView(s, writer, 7, 'orders-value'), view, 'judged once per schema id')
  })

  test('a removed required field and a retyped field are refused in the destructive-change words, and records without them validate', () => {
    const s = stream()
    const writer = record([{ name: 'id', type: 'string' }, { name: 'amount', type: 'string' }, { name: 'label', type: 'string' }])
    const view = writerView(s, writer, 9)
    assert.deepEqual(view.evolution?.problems, [
      'column "amount" is declared as integer but schema id 9 retypes it as Avro string: stored as its NULL/default',
      'column "total" is required but schema id 9 removed the field: stored as its NULL/default',
    ])
    assert.deepEqual(view.evolution?.columns, [])
    assert.deepEqual(view.dropped, ['amount'])
    assert.equal(recordChecker(view.schema)({ id: 'a', label: 'x' }).outcome, 'valid')
    assert.equal(recordChecker(view.schema)({ label: 'x' }).outcome, 'invalid', 'the key stays required')
  })

  test('an added field no column can store is refused and gets no column', () => {
    const view = writerView(stream(), record([...V1, { name: 'attrs', type: { type: 'map', values: 'string' }, default: {} }, { name: 'either', type: ['null', 'string', 'int'], default: null }, { name: 'maybe', type: ['null', { type: 'array', items: 'int' }], default: null }]), 3)
    assert.deepEqual(view.evolution?.columns, [])
    assert.equal(view.evolution?.problems.length, 3)
    assert.match(view.evolution!.problems[0]!, /^field "attrs" of schema id 3 has Avro type map, which no column type stores: it gets no column and is not stored$/)
    assert.match(view.evolution!.problems[1]!, /^field "either" of schema id 3 is a union of null, string, int/)
    assert.match(view.evolution!.problems[2]!, /^field "maybe" of schema id 3 gets no column \(.*Nullable/)
  })
})

describe('avroToSchema', () => {
  test('maps records, enums, arrays and logical types; refuses a recursive record at the nesting bound', () => {
    const nested = avroToSchema(avro({ type: 'record', name: 'R', fields: [{ name: 'k', type: { type: 'enum', name: 'K', symbols: ['a', 'b'] } }, { name: 'd', type: { type: 'int', logicalType: 'date' } }, { name: 'xs', type: { type: 'array', items: 'double' } }] }))
    assert.deepEqual(JSON.parse(JSON.stringify(nested)), JSON.parse(JSON.stringify(t.Object({ k: t.Union([t.Literal('a'), t.Literal('b')]), d: t.Date(), xs: t.Array(t.Number()) }))))
    const recursive = avroToSchema(avro({ type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'], default: null }] }))
    assert.ok('unsupported' in recursive && /nests deeper than 16 levels/.test(recursive.unsupported))
  })
})

describe('evolved columns in ClickHouse', () => {
  test('are added with their comment in one ALTER, and are not reported as no longer declared', () => {
    assert.equal(addColumnSql('default', 'orders', { name: 'channel', type: 'Nullable(String)', comment: "flowhouse: added for schema registry schema id 7 (subject \"it's\")" }),
      "ALTER TABLE `default`.`orders` ADD COLUMN `channel` Nullable(String), COMMENT COLUMN `channel` 'flowhouse: added for schema registry schema id 7 (subject \"it\\'s\")'")
    const existing = [
      { name: 'id', type: 'String', defaultKind: '', comment: '' },
      { name: 'channel', type: 'Nullable(String)', defaultKind: '', comment: 'flowhouse: added for schema registry schema id 7' },
      { name: 'old', type: 'String', defaultKind: '', comment: 'added by hand' },
    ]
    assert.deepEqual(diffColumns(existing, [{ name: 'id', type: 'String' }]).problems, ['column "old" exists in ClickHouse but is no longer declared'])
  })
})
