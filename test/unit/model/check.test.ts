import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { checkDefinitions } from '../../../src/model/check.ts'
import { collectDefinitions } from '../../../src/model/collect.ts'
import { IngestPipeline } from '../../../src/model/pipeline.ts'
import { Key, t } from '../../../src/model/schema.ts'
import { Stream } from '../../../src/model/stream.ts'
import { OlapTable } from '../../../src/model/table.ts'
import { MaterializedView } from '../../../src/model/view.ts'
import type { IngestPipelineLike, ModuleDefinitions, OlapTableLike, StreamLike } from '../../../src/model/types.ts'

const Flight = t.Object({ id: Key(t.String()), origin: t.String(), delay: t.Int32(), note: t.Optional(t.String()) })
const file = '/srv/pipelines/flights.ts'

function defsOf(parts: Partial<ModuleDefinitions>): ModuleDefinitions {
  return { file, pipelines: [], streams: [], tables: [], views: [], ...parts }
}

function plainTable(overrides: Partial<OlapTableLike> = {}): OlapTableLike {
  return { kind: 'table', name: 'flights', schema: Flight, config: { orderByFields: ['id'], engine: 'MergeTree' }, columns: [], ...overrides }
}

function plainStream(overrides: Partial<StreamLike> = {}): StreamLike {
  return { kind: 'stream', name: 'raw', schema: Flight, config: { parallelism: 1, retentionPeriod: 604_800 }, transforms: [], consumers: [], ...overrides }
}

function mv(name: string, targetName: string): MaterializedView {
  return new MaterializedView({ name, select: 'SELECT origin, count() AS n FROM flights GROUP BY origin', source: 'flights', target: { name: targetName, orderByFields: ['origin'] } })
}

describe('checkDefinitions', () => {
  test('a valid module passes', () => {
    const flights = new IngestPipeline('flights', { schema: Flight, table: { orderByFields: ['id', 'origin'] } })
    const delayed = new Stream('delayed', Flight)
    flights.stream.addTransform(delayed, (record) => (record.delay > 15 ? record : null))
    const view = mv('by_origin', 'by_origin_target')
    assert.doesNotThrow(() => checkDefinitions(collectDefinitions(file, { flights, delayed, view })))
  })

  test('re-checks plain tables: Key first in orderByFields', () => {
    assert.throws(() => checkDefinitions(defsOf({ tables: [plainTable({ config: { orderByFields: ['origin', 'id'], engine: 'MergeTree' } })] })), {
      name: 'ConfigError',
      message: 'table "flights": field "id": the Key field must be first in orderByFields; put "id" first, e.g. orderByFields: ["id", "origin"]',
    })
  })

  test('re-checks plain tables: orderByFields must not contain optional fields', () => {
    assert.throws(() => checkDefinitions(defsOf({ tables: [plainTable({ config: { orderByFields: ['id', 'note'], engine: 'MergeTree' } })] })), {
      message: 'table "flights": field "note": orderByFields must not contain optional fields; make "note" required or remove it from orderByFields',
    })
  })

  test('re-checks plain tables: the name must be an identifier', () => {
    assert.throws(() => checkDefinitions(defsOf({ tables: [plainTable({ name: 'my table' })] })), {
      message: 'table "my table": the name must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "my table"); use letters, digits and _ only, starting with a letter or _, e.g. "my_table"',
    })
  })

  test('re-checks plain streams: parallelism and retentionPeriod', () => {
    assert.throws(() => checkDefinitions(defsOf({ streams: [plainStream({ config: { parallelism: 0, retentionPeriod: 1 } })] })), {
      message: 'stream "raw": option "parallelism": must be a positive integer (got 0); set it to 1 or more, or leave it out for 1',
    })
    assert.throws(() => checkDefinitions(defsOf({ streams: [plainStream({ config: { parallelism: 1, retentionPeriod: -5 } })] })), {
      message: 'stream "raw": option "retentionPeriod": must be a positive integer number of seconds (got -5); give it in whole seconds, e.g. 86400 for one day, or leave it out for 604800 (7 days)',
    })
  })

  test('a pipeline must have a stream', () => {
    const pipeline = { kind: 'pipeline', name: 'flights', schema: Flight, ingestApi: true, deadLetterQueue: true, dlqTopic: 'flights.dlq' } as unknown as IngestPipelineLike
    assert.throws(() => checkDefinitions(defsOf({ pipelines: [pipeline] })), {
      message: 'pipeline "flights": option "stream": a pipeline always has a stream (got undefined); remove stream: false, or pass true or { parallelism, retentionPeriod }',
    })
  })

  test('a pipeline ingest format must be JSON_ARRAY', () => {
    const flights = new IngestPipeline('flights', { schema: Flight })
    const pipeline = { ...flights, stream: flights.stream, format: 'CSV' } as unknown as IngestPipelineLike
    assert.throws(() => checkDefinitions(defsOf({ pipelines: [pipeline] })), {
      message: 'pipeline "flights": option "format": must be "JSON_ARRAY" (got "CSV"); send each message as one JSON array of records and set format: \'JSON_ARRAY\', or leave format out',
    })
  })

  test('a transform destination must be part of the module', () => {
    const outside = new Stream('outside', Flight)
    const stream = plainStream({ transforms: [{ destination: outside, fn: (record: unknown) => record, index: 0 }] })
    assert.throws(() => checkDefinitions(defsOf({ streams: [stream] })), {
      message: 'stream "raw": transform 0: destination "outside" is not a stream or table of this module; pass the Stream or OlapTable object, or declare one with that name in the same module',
    })
  })

  test('a transform must not send records to its own stream', () => {
    const stream = plainStream()
    stream.transforms.push({ destination: stream, fn: (record: unknown) => record, index: 0 })
    assert.throws(() => checkDefinitions(defsOf({ streams: [stream] })), {
      message: 'stream "raw": transform 0: a stream must not transform into itself (records would loop forever); send the records to another stream or to a table',
    })
  })

  test('a stream destination table must be part of the module', () => {
    const stream = plainStream({ destination: plainTable({ name: 'elsewhere' }) })
    assert.throws(() => checkDefinitions(defsOf({ streams: [stream] })), {
      message: 'stream "raw": option "destination": table "elsewhere" is not part of this module; pass an OlapTable declared in the same module',
    })
  })

  test('two pipelines may not share a name', () => {
    const a = new IngestPipeline('flights', { schema: Flight })
    const b = new IngestPipeline('flights', { schema: Flight })
    assert.throws(() => checkDefinitions(collectDefinitions(file, { a, b })), {
      message: 'pipeline "flights": the name "flights" is already used by pipeline "flights" (pipeline names must be unique); rename one of them',
    })
  })

  test('a stream may not reuse the topic name of a pipeline', () => {
    const flights = new IngestPipeline('flights', { schema: Flight })
    const stream = new Stream('flights', Flight)
    assert.throws(() => checkDefinitions(collectDefinitions(file, { flights, stream })), {
      message: 'stream "flights": the name "flights" is already used by the stream of pipeline "flights" (Kafka topic names must be unique); rename one of them',
    })
  })

  test('a table may not reuse the table name of a pipeline', () => {
    const flights = new IngestPipeline('flights', { schema: Flight })
    const table = new OlapTable('flights', Flight)
    assert.throws(() => checkDefinitions(collectDefinitions(file, { flights, table })), {
      message: 'table "flights": the name "flights" is already used by the table of pipeline "flights" (ClickHouse table and view names must be unique); rename one of them',
    })
  })

  test('a view may not be named like a table', () => {
    const table = new OlapTable('stats', Flight)
    assert.throws(() => checkDefinitions(collectDefinitions(file, { table, view: mv('stats', 'stats_target') })), {
      message: 'view "stats": the name "stats" is already used by table "stats" (ClickHouse table and view names must be unique); rename one of them',
    })
  })

  test('a view may not be named like the target table of another view', () => {
    assert.throws(() => checkDefinitions(collectDefinitions(file, { a: mv('a_mv', 'shared'), b: mv('shared', 'b_target') })), {
      message: 'view "a_mv": option "target.name": the name "shared" is already used by view "shared" (ClickHouse table and view names must be unique); rename one of them',
    })
  })

  test('a view target may not be named like a table', () => {
    const table = new OlapTable('by_origin', Flight)
    assert.throws(() => checkDefinitions(collectDefinitions(file, { table, view: mv('by_origin_mv', 'by_origin') })), {
      message: 'view "by_origin_mv": option "target.name": the name "by_origin" is already used by table "by_origin" (ClickHouse table and view names must be unique); rename one of them',
    })
  })

  test('the same object listed twice is not a name clash', () => {
    const table = new OlapTable('flights', Flight)
    assert.doesNotThrow(() => checkDefinitions(defsOf({ tables: [table, table] })))
  })

  test('the error names the rule in its context', () => {
    const a = new Stream('same', Flight)
    const b = new Stream('same', Flight)
    assert.throws(() => checkDefinitions(collectDefinitions(file, { a, b })), (error: { context: unknown }) => {
      assert.deepEqual(error.context, { stream: 'same', rule: 'unique-name' })
      return true
    })
  })
})
