import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { canonicalColumnType, parseColumnType } from '../../../src/clickhouse/column-type.ts'
import { ConfigError } from '../../../src/errors.ts'
import { definitionFromRequest } from '../../../src/views/definition.ts'

const ctx = { field: 'columns[0].type' }

describe('column type grammar', () => {
  it('accepts the types flowhouse maps to and prints them back in ClickHouse form', () => {
    const cases: Array<[string, string]> = [
      ['String', 'String'],
      ['  UInt64 ', 'UInt64'],
      ['Nullable(Float64)', 'Nullable(Float64)'],
      ['LowCardinality(Nullable(String))', 'LowCardinality(Nullable(String))'],
      ['Array(Array(Int32))', 'Array(Array(Int32))'],
      ["DateTime64(3,'UTC')", "DateTime64(3, 'UTC')"],
      ["DateTime('Europe/Paris')", "DateTime('Europe/Paris')"],
      ['DateTime', 'DateTime'],
      ['Decimal(10,2)', 'Decimal(10, 2)'],
      ['Decimal64(4)', 'Decimal64(4)'],
      ['FixedString(16)', 'FixedString(16)'],
      ["Enum8('a' = 1, 'it''s' = 2, 'b\\\\c' = -3)", "Enum8('a' = 1, 'it\\'s' = 2, 'b\\\\c' = -3)"],
      ['Tuple(a Int32, b Array(String))', 'Tuple(a Int32, b Array(String))'],
      ['Tuple(Int32, String)', 'Tuple(Int32, String)'],
      ['Map(String, UInt64)', 'Map(String, UInt64)'],
      ['AggregateFunction(sum, Int32)', 'AggregateFunction(sum, Int32)'],
      ['AggregateFunction(count)', 'AggregateFunction(count)'],
      ['AggregateFunction(quantiles(0.5, 0.9), Float64)', 'AggregateFunction(quantiles(0.5, 0.9), Float64)'],
      ['SimpleAggregateFunction(max, Int64)', 'SimpleAggregateFunction(max, Int64)'],
    ]
    for (const [input, printed] of cases) assert.equal(canonicalColumnType(input, ctx), printed, input)
  })

  it('refuses a closing parenthesis followed by an ENGINE clause, naming the field', () => {
    assert.throws(
      () => canonicalColumnType("String) ENGINE = File(TSVRaw, '/tmp/pipelines/x.ts') --", ctx),
      (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_INVALID' && e.context.field === 'columns[0].type' && /^columns\[0\]\.type: .* is not a supported ClickHouse column type \(unexpected text after the type at character 7\)/.test(e.message),
    )
  })

  it('refuses a DEFAULT expression after the type', () => {
    assert.throws(() => canonicalColumnType("String DEFAULT file('/etc/hostname')", ctx), /unexpected text after the type at character 8/)
  })

  it('refuses unknown types, comments, bad parameters and deep nesting', () => {
    const bad = [
      'Strin',
      'String -- x',
      'String /* x */',
      'Int32;',
      'Decimal(100, 2)',
      'Decimal(10, 11)',
      'DateTime64(12)',
      "DateTime('UTC'' ENGINE')",
      "Enum8('a' = 300)",
      'Nullable',
      'Nullable()',
      'Array(String',
      'Array(String))',
      'Nested(a Int32)',
      'AggregateFunction(sum(file), Int32)',
      'Array('.repeat(20) + 'String' + ')'.repeat(20),
      "FixedString('x')",
      '',
    ]
    for (const text of bad) assert.throws(() => parseColumnType(text, ctx), ConfigError, text)
  })

  it('POST /api/mv definitions print the checked types, and refuse an injected one with the field named', () => {
    const body = { name: 'v', source_table: 'src', engine: 'MergeTree', order_by: ['k'], select_query: 'SELECT k, n FROM {source_table}', columns: [{ name: 'k', type: 'String' }, { name: 'n', type: 'Decimal(10,2)' }] }
    assert.deepEqual(definitionFromRequest(body, 'db').target.columns, [{ name: 'k', type: 'String' }, { name: 'n', type: 'Decimal(10, 2)' }])
    const attack = { ...body, columns: [{ name: 'k', type: "String) ENGINE = File(TSVRaw, 'x.ts') --" }] }
    assert.throws(() => definitionFromRequest(attack, 'db'), (e: unknown) => e instanceof ConfigError && e.context.field === 'columns[0].type')
    assert.throws(() => definitionFromRequest({ ...body, columns: [{ name: 'k', type: 'String', default: 'x' }] }, 'db'), (e: unknown) => e instanceof ConfigError && e.context.field === 'columns[0].default')
  })
})
