import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { addColumnSql, createTableSql, type DdlOptions } from '../../../src/clickhouse/ddl.ts'
import { createMaterializedViewSql } from '../../../src/views/ddl.ts'
import { ConfigError } from '../../../src/errors.ts'
import type { MaterializedViewLike, OlapTableLike } from '../../../src/model/types.ts'

const modern: DdlOptions = { database: 'default', dedupWindow: true, dedupWindowBlocks: 1000 }
const old: DdlOptions = { database: 'default', dedupWindow: false, dedupWindowBlocks: 1000 }

function table(config: Partial<OlapTableLike['config']> = {}, columns = [
  { name: 'id', type: 'String' },
  { name: 'ts', type: 'DateTime' },
  { name: 'delay', type: 'Nullable(Int32)' },
]): OlapTableLike {
  return { kind: 'table', name: 'flights', schema: {} as never, config: { engine: 'MergeTree', orderByFields: ['id'], ...config }, columns }
}

function view(target: Partial<MaterializedViewLike['target']> = {}, select = 'SELECT origin, sumState(delay) AS total FROM flights GROUP BY origin'): MaterializedViewLike {
  return { kind: 'view', name: 'delays_mv', select, source: 'flights', target: { name: 'delays', engine: 'AggregatingMergeTree', orderByFields: ['origin'], ...target } }
}

describe('createTableSql', () => {
  it('gives a table the dedup window when the engine supports it', () => {
    assert.equal(
      createTableSql(table(), modern),
      'CREATE TABLE IF NOT EXISTS `default`.`flights` (`id` String, `ts` DateTime, `delay` Nullable(Int32)) ENGINE = MergeTree ORDER BY (`id`) SETTINGS non_replicated_deduplication_window = 1000',
    )
  })

  it('quotes any JSON key as a column name, escaping backquotes and backslashes', () => {
    const t = table({ orderByFields: ['Title ID'] }, [
      { name: 'Title ID', type: 'String' },
      { name: 'Rotten Tomatoes Rating', type: 'Nullable(Float64)' },
      { name: 'odd`name\\', type: 'String' },
    ])
    assert.equal(
      createTableSql(t, old),
      'CREATE TABLE IF NOT EXISTS `default`.`flights` (`Title ID` String, `Rotten Tomatoes Rating` Nullable(Float64), `odd\\`name\\\\` String) ENGINE = MergeTree ORDER BY (`Title ID`)',
    )
    assert.equal(addColumnSql('default', 'flights', { name: 'US Gross', type: 'Nullable(Float64)' }), 'ALTER TABLE `default`.`flights` ADD COLUMN `US Gross` Nullable(Float64)')
  })

  it('leaves the dedup window out on engines without it (ClickHouse 18.16)', () => {
    assert.equal(
      createTableSql(table(), old),
      'CREATE TABLE IF NOT EXISTS `default`.`flights` (`id` String, `ts` DateTime, `delay` Nullable(Int32)) ENGINE = MergeTree ORDER BY (`id`)',
    )
  })

  it('writes PARTITION BY before ORDER BY and appends the table settings after the window', () => {
    const t = table({ engine: 'ReplacingMergeTree', orderByFields: ['id', 'ts'], partitionBy: 'toYYYYMM(ts)', settings: { index_granularity: 8192, storage_policy: 'default' } })
    assert.equal(
      createTableSql(t, { ...modern, database: 'fh', dedupWindowBlocks: 500 }),
      "CREATE TABLE IF NOT EXISTS `fh`.`flights` (`id` String, `ts` DateTime, `delay` Nullable(Int32)) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(ts) ORDER BY (`id`, `ts`) SETTINGS non_replicated_deduplication_window = 500, index_granularity = 8192, storage_policy = 'default'",
    )
  })

  it("keeps the table's own non_replicated_deduplication_window instead of adding one", () => {
    assert.equal(
      createTableSql(table({ settings: { non_replicated_deduplication_window: 50 } }), modern),
      'CREATE TABLE IF NOT EXISTS `default`.`flights` (`id` String, `ts` DateTime, `delay` Nullable(Int32)) ENGINE = MergeTree ORDER BY (`id`) SETTINGS non_replicated_deduplication_window = 50',
    )
  })

  it('orders by tuple() when no ORDER BY field is given', () => {
    assert.equal(
      createTableSql(table({ orderByFields: [] }), old),
      'CREATE TABLE IF NOT EXISTS `default`.`flights` (`id` String, `ts` DateTime, `delay` Nullable(Int32)) ENGINE = MergeTree ORDER BY tuple()',
    )
  })

  it('refuses a table name that is not an identifier, saying what is allowed', () => {
    const t = { ...table(), name: 'flights`; DROP TABLE x; --' }
    assert.throws(() => createTableSql(t, modern), {
      name: 'ConfigError',
      message: 'table name "flights`; DROP TABLE x; --" is not a valid ClickHouse identifier: use letters, digits, "_" and "-", starting with a letter or "_" (at most 128 characters)',
    })
  })

  it('refuses an ORDER BY field that is not a column', () => {
    assert.throws(() => createTableSql(table({ orderByFields: ['carrier'] }), modern), {
      message: 'table "flights": orderByFields names "carrier", which is not a column of the table',
    })
  })

  it('refuses an unknown engine', () => {
    assert.throws(() => createTableSql(table({ engine: 'Log' as never }), modern), (e: unknown) => e instanceof ConfigError && /engine "Log" is not supported/.test(e.message))
  })
})

describe('createMaterializedViewSql', () => {
  const columns = [
    { name: 'origin', type: 'String' },
    { name: 'total', type: 'AggregateFunction(sum, Nullable(Int32))' },
  ]

  it('creates the target table, then the view writing TO it', () => {
    assert.deepEqual(createMaterializedViewSql(view(), columns, modern), {
      target:
        'CREATE TABLE IF NOT EXISTS `default`.`delays` (`origin` String, `total` AggregateFunction(sum, Nullable(Int32))) ENGINE = AggregatingMergeTree ORDER BY (`origin`) SETTINGS non_replicated_deduplication_window = 1000',
      view: 'CREATE MATERIALIZED VIEW IF NOT EXISTS `default`.`delays_mv` TO `default`.`delays` AS SELECT origin, sumState(delay) AS total FROM flights GROUP BY origin',
    })
  })

  it('drops a trailing semicolon from the SELECT and keeps target settings', () => {
    const sql = createMaterializedViewSql(view({ engine: 'SummingMergeTree', settings: { index_granularity: 1024 } }, 'SELECT origin, count() AS n FROM flights GROUP BY origin;\n'), [
      { name: 'origin', type: 'String' },
      { name: 'n', type: 'UInt64' },
    ], old)
    assert.equal(sql.target, 'CREATE TABLE IF NOT EXISTS `default`.`delays` (`origin` String, `n` UInt64) ENGINE = SummingMergeTree ORDER BY (`origin`) SETTINGS index_granularity = 1024')
    assert.equal(sql.view, 'CREATE MATERIALIZED VIEW IF NOT EXISTS `default`.`delays_mv` TO `default`.`delays` AS SELECT origin, count() AS n FROM flights GROUP BY origin')
  })

  it('refuses a SELECT made of several statements', () => {
    assert.throws(() => createMaterializedViewSql(view({}, 'SELECT 1; DROP TABLE flights'), columns, modern), {
      message: 'view "delays_mv": select must be exactly one SELECT statement (got 2)',
    })
  })
})

describe('addColumnSql', () => {
  it('adds one column without IF NOT EXISTS (18.16 has no such syntax)', () => {
    assert.equal(addColumnSql('default', 'flights', { name: 'distance', type: 'UInt32' }), 'ALTER TABLE `default`.`flights` ADD COLUMN `distance` UInt32')
  })
})
