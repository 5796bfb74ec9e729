import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { OlapTable } from '../../../src/model/table.ts'
import { Key, t } from '../../../src/model/schema.ts'
import type { EngineName } from '../../../src/model/types.ts'

const Flight = t.Object({
  id: Key(t.String()),
  date: t.DateTime(),
  delay: t.Int32(),
  note: t.Optional(t.String()),
  tags: t.Array(t.String()),
  route: t.Object({ origin: t.String(), destination: t.String() }),
})

describe('OlapTable', () => {
  test('defaults to MergeTree ordered by the Key field', () => {
    const table = new OlapTable('flights', Flight)
    assert.equal(table.kind, 'table')
    assert.deepEqual(table.config, { orderByFields: ['id'], engine: 'MergeTree' })
    assert.equal(table.pipeline, undefined)
  })

  test('keeps the given options and maps columns in schema order', () => {
    const table = new OlapTable('flights', Flight, { orderByFields: ['id', 'date'], engine: 'ReplacingMergeTree', settings: { index_granularity: 8192 }, partitionBy: 'toYYYYMM(date)' })
    assert.deepEqual(table.config, { orderByFields: ['id', 'date'], engine: 'ReplacingMergeTree', settings: { index_granularity: 8192 }, partitionBy: 'toYYYYMM(date)' })
    assert.deepEqual(
      table.columns.map((column) => column.name),
      ['id', 'date', 'delay', 'note', 'tags', 'route'],
    )
  })

  test('copies orderByFields so later changes to the array do not reach the table', () => {
    const orderByFields = ['id']
    const table = new OlapTable('flights', Flight, { orderByFields })
    orderByFields.push('date')
    assert.deepEqual(table.config.orderByFields, ['id'])
  })

  test('rejects a name that is not an identifier', () => {
    assert.throws(() => new OlapTable('my-flights', Flight), {
      message: 'table "my-flights": the name must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "my-flights"); use letters, digits and _ only, starting with a letter or _, e.g. "my_flights"',
    })
    assert.throws(() => new OlapTable('2024', Flight), {
      message: 'table "2024": the name must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "2024"); use letters, digits and _ only, starting with a letter or _, e.g. "_2024"',
    })
    assert.throws(() => new OlapTable('', Flight), {
      message: 'table "": the name must match ^[A-Za-z_][A-Za-z0-9_]*$ (got ""); use letters, digits and _ only, starting with a letter or _',
    })
  })

  test('rejects a schema without a Key field', () => {
    assert.throws(() => new OlapTable('flights', t.Object({ id: t.String() })), {
      message: 'table "flights": no field is marked Key; wrap exactly one top-level field in Key(...), e.g. id: Key(t.String())',
    })
  })

  test('rejects a schema with two Key fields', () => {
    assert.throws(() => new OlapTable('flights', t.Object({ a: Key(t.String()), b: Key(t.String()) })), {
      message: 'table "flights": fields "a", "b" are all marked Key; keep Key on exactly one top-level field',
    })
  })

  test('rejects a Key on a nested field', () => {
    assert.throws(() => new OlapTable('flights', t.Object({ id: t.String(), route: t.Object({ origin: Key(t.String()) }) })), {
      message: 'table "flights": field "route.origin": Key must be on a top-level field; move Key(...) to a top-level field of the schema',
    })
  })

  test('rejects an optional Key field', () => {
    assert.throws(() => new OlapTable('flights', t.Object({ id: t.Optional(Key(t.String())) })), {
      message: 'table "flights": field "id": the Key field must not be optional or nullable; make "id" required',
    })
  })

  test('rejects a Key field that is an array', () => {
    assert.throws(() => new OlapTable('flights', t.Object({ ids: Key(t.Array(t.String())) })), {
      message: 'table "flights": field "ids": the Key field must be a scalar, not an object or array; mark a scalar top-level field as Key',
    })
  })

  test('rejects orderByFields that do not start with the Key field', () => {
    assert.throws(() => new OlapTable('flights', Flight, { orderByFields: ['date', 'id'] }), {
      message: 'table "flights": field "id": the Key field must be first in orderByFields; put "id" first, e.g. orderByFields: ["id", "date"]',
    })
  })

  test('rejects empty orderByFields', () => {
    assert.throws(() => new OlapTable('flights', Flight, { orderByFields: [] }), {
      message: 'table "flights": field "id": the Key field must be first in orderByFields; put "id" first, e.g. orderByFields: ["id"]',
    })
  })

  test('rejects orderByFields naming a field that is not at the top level', () => {
    assert.throws(() => new OlapTable('flights', Flight, { orderByFields: ['id', 'route.origin'] }), {
      message: 'table "flights": field "route.origin": orderByFields must name top-level fields of the schema; remove "route.origin" or use one of "id", "date", "delay", "note", "tags", "route"',
    })
  })

  test('rejects an optional field in orderByFields', () => {
    assert.throws(() => new OlapTable('flights', Flight, { orderByFields: ['id', 'note'] }), {
      message: 'table "flights": field "note": orderByFields must not contain optional fields; make "note" required or remove it from orderByFields',
    })
  })

  test('rejects a nullable field in orderByFields', () => {
    const schema = t.Object({ id: Key(t.String()), gone: t.Nullable(t.String()) })
    assert.throws(() => new OlapTable('flights', schema, { orderByFields: ['id', 'gone'] }), {
      message: 'table "flights": field "gone": orderByFields must not contain optional fields; make "gone" required or remove it from orderByFields',
    })
  })

  test('rejects an array or object in orderByFields', () => {
    assert.throws(() => new OlapTable('flights', Flight, { orderByFields: ['id', 'tags'] }), {
      message: 'table "flights": field "tags": orderByFields must not contain objects or arrays; remove "tags" from orderByFields',
    })
    assert.throws(() => new OlapTable('flights', Flight, { orderByFields: ['id', 'route'] }), {
      message: 'table "flights": field "route": orderByFields must not contain objects or arrays; remove "route" from orderByFields',
    })
  })

  test('rejects a field listed twice in orderByFields', () => {
    assert.throws(() => new OlapTable('flights', Flight, { orderByFields: ['id', 'date', 'date'] }), {
      message: 'table "flights": field "date": orderByFields must not list a field twice; remove the second "date"',
    })
  })

  test('rejects orderByFields that is not an array of names', () => {
    assert.throws(() => new OlapTable('flights', Flight, { orderByFields: 'id' as unknown as string[] }), {
      message: 'table "flights": option "orderByFields": must be an array of top-level field names (got "id"); e.g. orderByFields: ["id"]',
    })
  })

  test('rejects an unknown engine', () => {
    assert.throws(() => new OlapTable('flights', Flight, { engine: 'Log' as EngineName }), {
      message: 'table "flights": option "engine": must be one of "MergeTree", "ReplacingMergeTree", "SummingMergeTree", "AggregatingMergeTree" (got "Log"); use one of these, or leave engine out for "MergeTree"',
    })
  })

  test('rejects settings that are not strings or numbers', () => {
    assert.throws(() => new OlapTable('flights', Flight, { settings: { index_granularity: true } as unknown as Record<string, number> }), {
      message: 'table "flights": option "settings": must be an object of string or number values (got {"index_granularity":true}); e.g. settings: { index_granularity: 8192 }',
    })
  })

  test('rejects a setting name that is not an identifier', () => {
    assert.throws(() => new OlapTable('flights', Flight, { settings: { 'index-granularity': 1 } }), {
      message: 'table "flights": option "settings": setting names must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "index-granularity"); use letters, digits and _ only, starting with a letter or _, e.g. "index_granularity"',
    })
  })

  test('rejects an empty partitionBy', () => {
    assert.throws(() => new OlapTable('flights', Flight, { partitionBy: ' ' }), {
      message: 'table "flights": option "partitionBy": must be a non-empty SQL expression (got " "); e.g. partitionBy: \'toYYYYMM(date)\', or leave it out',
    })
  })

  test('a Key error carries the table, field and rule as context', () => {
    assert.throws(() => new OlapTable('flights', Flight, { orderByFields: ['date'] }), (error: { context: unknown; code: string }) => {
      assert.equal(error.code, 'CONFIG_INVALID')
      assert.deepEqual(error.context, { table: 'flights', field: 'id', rule: 'order-by' })
      return true
    })
  })
})
