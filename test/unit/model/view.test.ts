import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { IngestPipeline } from '../../../src/model/pipeline.ts'
import { Key, t } from '../../../src/model/schema.ts'
import { OlapTable } from '../../../src/model/table.ts'
import { MaterializedView } from '../../../src/model/view.ts'
import type { MaterializedViewOptions } from '../../../src/model/options.ts'

const Flight = t.Object({ id: Key(t.String()), origin: t.String(), delay: t.Int32() })
const select = 'SELECT origin, count() AS flights, sum(delay) AS total_delay FROM flights GROUP BY origin'
const target = { name: 'delay_by_origin', engine: 'SummingMergeTree', orderByFields: ['origin'] } as const

function view(overrides: Partial<MaterializedViewOptions> = {}): MaterializedView {
  return new MaterializedView({ name: 'delay_by_origin_mv', select, source: 'flights', target: { ...target, orderByFields: [...target.orderByFields] }, ...overrides })
}

describe('MaterializedView', () => {
  test('keeps a table name as source and defaults the target engine to MergeTree', () => {
    const mv = new MaterializedView({ name: 'mv', select, source: 'flights', target: { name: 'out', orderByFields: ['origin'] } })
    assert.equal(mv.kind, 'view')
    assert.equal(mv.source, 'flights')
    assert.deepEqual(mv.target, { name: 'out', engine: 'MergeTree', orderByFields: ['origin'] })
  })

  test('a pipeline source means the pipeline table', () => {
    const pipeline = new IngestPipeline('flights', { schema: Flight })
    assert.equal(view({ source: pipeline }).source, pipeline.table)
  })

  test('an OlapTable source is kept as the object', () => {
    const table = new OlapTable('flights', Flight)
    assert.equal(view({ source: table }).source, table)
  })

  test('rejects a pipeline source without a table', () => {
    const pipeline = new IngestPipeline('flights', { schema: Flight, table: false })
    assert.throws(() => view({ source: pipeline }), {
      message: 'view "delay_by_origin_mv": option "source": pipeline "flights" has no table (table: false); read from a pipeline with a table, or from an OlapTable',
    })
  })

  test('rejects a source that is not a table or a table name', () => {
    assert.throws(() => view({ source: 7 as never }), {
      message: 'view "delay_by_origin_mv": option "source": must be an OlapTable, a pipeline with a table, or a table name (got 7); pass the table the SELECT reads from',
    })
  })

  test('rejects a query that is not a SELECT', () => {
    assert.throws(() => view({ select: 'CREATE TABLE x' }), {
      message: 'view "delay_by_origin_mv": option "select": must be a SELECT statement (got "CREATE TABLE x"); write the query as SELECT ... FROM <source> (or WITH ... SELECT ...)',
    })
  })

  test('accepts a query starting with WITH', () => {
    assert.doesNotThrow(() => view({ select: 'WITH 1 AS one SELECT origin FROM flights' }))
  })

  test('rejects a name that is not an identifier', () => {
    assert.throws(() => view({ name: 'by origin' }), {
      message: 'view "by origin": the name must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "by origin"); use letters, digits and _ only, starting with a letter or _, e.g. "by_origin"',
    })
  })

  test('rejects a target named like the view or the source', () => {
    assert.throws(() => view({ target: { ...target, name: 'delay_by_origin_mv', orderByFields: ['origin'] } }), {
      message: 'view "delay_by_origin_mv": option "target.name": the target table must differ from the view name (got "delay_by_origin_mv"); give the target table its own name, e.g. "delay_by_origin_mv_target"',
    })
    assert.throws(() => view({ target: { ...target, name: 'flights', orderByFields: ['origin'] } }), {
      message: 'view "delay_by_origin_mv": option "target.name": the target table must differ from the source table (got "flights"); give the target table its own name, e.g. "delay_by_origin_mv_target"',
    })
  })

  test('rejects a missing target', () => {
    assert.throws(() => view({ target: undefined as never }), {
      message: 'view "delay_by_origin_mv": option "target": must be an object (got undefined); pass target: { name, orderByFields, engine? }',
    })
  })

  test('rejects an unknown target engine', () => {
    assert.throws(() => view({ target: { name: 'out', engine: 'Memory' as never, orderByFields: ['origin'] } }), {
      message: 'view "delay_by_origin_mv": option "target.engine": must be one of "MergeTree", "ReplacingMergeTree", "SummingMergeTree", "AggregatingMergeTree" (got "Memory"); use one of these, or leave target.engine out for "MergeTree"',
    })
  })

  test('rejects empty target orderByFields', () => {
    assert.throws(() => view({ target: { name: 'out', orderByFields: [] } }), {
      message: 'view "delay_by_origin_mv": option "target.orderByFields": must be a non-empty array of column names (got []); list the columns the target is ordered by, e.g. the GROUP BY columns',
    })
  })

  test('rejects target orderByFields that are not among explicit target columns', () => {
    const columns = [{ name: 'origin', type: 'String' }, { name: 'flights', type: 'UInt64' }]
    assert.doesNotThrow(() => view({ target: { name: 'out', orderByFields: ['origin'], columns } }))
    assert.throws(() => view({ target: { name: 'out', orderByFields: ['dest'], columns } }), {
      message: 'view "delay_by_origin_mv": option "target.orderByFields": "dest" is not one of the target columns; use columns from "origin", "flights", or add "dest" to target.columns',
    })
  })

  test('rejects malformed target columns', () => {
    assert.throws(() => view({ target: { name: 'out', orderByFields: ['origin'], columns: [{ name: 'origin', type: '' }] } }), {
      message: 'view "delay_by_origin_mv": option "target.columns": must be a non-empty array of { name, type } (got [{"name":"origin","type":""}]); e.g. columns: [{ name: \'origin\', type: \'String\' }], or leave it out to infer them from the SELECT',
    })
  })
})
