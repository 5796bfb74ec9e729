import assert from 'node:assert/strict'
import { test } from 'node:test'
import { adaptColumns, parseTypeText } from '../../../src/clickhouse/compat.ts'

const OLD = ['DateTime64', 'Bool', 'Date32', 'Map', 'Int128', 'UInt128', 'Int256', 'UInt256', 'IPv4', 'IPv6', 'Object', 'JSON']

test('a type text splits into its name and top-level arguments, quotes and nesting kept whole', () => {
  assert.deepEqual(parseTypeText("DateTime64(3, 'UTC')"), { name: 'DateTime64', args: ['3', "'UTC'"] })
  assert.deepEqual(parseTypeText("Enum8('a,b' = 1, 'c)' = 2)"), { name: 'Enum8', args: ["'a,b' = 1", "'c)' = 2"] })
  assert.deepEqual(parseTypeText('Tuple(a Array(Nullable(Int32)), b String)'), { name: 'Tuple', args: ['a Array(Nullable(Int32))', 'b String'] })
  assert.deepEqual(parseTypeText('String'), { name: 'String', args: undefined })
})

test('on a server without DateTime64, Bool and Date32 the columns get DateTime, UInt8 and Date, each listed with what it loses', () => {
  const { columns, fallbacks } = adaptColumns(
    'flights',
    [
      { name: 'id', type: 'String' },
      { name: 'date', type: "DateTime64(3, 'UTC')" },
      { name: 'delayed', type: 'Bool' },
      { name: 'day', type: 'Nullable(Date32)' },
      { name: 'tags', type: 'Array(Tuple(at DateTime64(3), ok Bool))' },
    ],
    OLD,
    '18.16.1',
  )
  assert.deepEqual(columns, [
    { name: 'id', type: 'String' },
    { name: 'date', type: "DateTime('UTC')" },
    { name: 'delayed', type: 'UInt8' },
    { name: 'day', type: 'Nullable(Date)' },
    { name: 'tags', type: 'Array(Tuple(at DateTime, ok UInt8))' },
  ])
  assert.deepEqual(fallbacks, [
    { column: 'date', declared: "DateTime64(3, 'UTC')", used: "DateTime('UTC')", note: 'sub-second precision is dropped' },
    { column: 'delayed', declared: 'Bool', used: 'UInt8', note: 'true/false are stored as 1/0' },
    { column: 'day', declared: 'Nullable(Date32)', used: 'Nullable(Date)', note: 'only dates from 1970-01-01 to 2149-06-06 fit' },
    { column: 'tags', declared: 'Array(Tuple(at DateTime64(3), ok Bool))', used: 'Array(Tuple(at DateTime, ok UInt8))', note: 'sub-second precision is dropped; true/false are stored as 1/0' },
  ])
})

test('a server that has every type keeps the declared columns as they are', () => {
  const declared = [{ name: 'date', type: "DateTime64(3, 'UTC')" }, { name: 'ok', type: 'Bool' }]
  assert.deepEqual(adaptColumns('t', declared, [], '26.7.2.1'), { columns: declared, fallbacks: [] })
  assert.deepEqual(adaptColumns('t', declared, undefined, '26.7.2.1'), { columns: declared, fallbacks: [] })
})

test('LowCardinality on a server without it stores the inner type', () => {
  assert.deepEqual(adaptColumns('t', [{ name: 'o', type: 'LowCardinality(Nullable(String))' }], ['LowCardinality'], '18.1').columns, [{ name: 'o', type: 'Nullable(String)' }])
})

test('a type without a stand-in is refused with the table, the column, the server version and the release that added it', () => {
  assert.throws(() => adaptColumns('events', [{ name: 'attrs', type: 'Map(String, UInt64)' }], OLD, '18.16.1'), {
    name: 'ConfigError',
    message: 'table "events": column "attrs" has type Map(String, UInt64), and ClickHouse 18.16.1 has no Map type (it needs ClickHouse 21.1 or later); upgrade the server or declare the field with another type',
  })
  assert.throws(() => adaptColumns('events', [{ name: 'big', type: 'Nullable(UInt256)' }], OLD, '18.16.1'), {
    message: 'table "events": column "big" has type Nullable(UInt256), and ClickHouse 18.16.1 has no UInt256 type (it needs ClickHouse 20.8 or later); upgrade the server or declare the field with another type',
  })
})
