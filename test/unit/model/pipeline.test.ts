import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { IngestPipeline } from '../../../src/model/pipeline.ts'
import { Key, t } from '../../../src/model/schema.ts'
import { Stream } from '../../../src/model/stream.ts'
import { OlapTable } from '../../../src/model/table.ts'

const Flight = t.Object({ id: Key(t.String()), date: t.Date(), delay: t.Int32(), origin: t.String(), note: t.Optional(t.String()) })

describe('IngestPipeline', () => {
  test('defaults: ingest API on, DLQ on, JSON_ARRAY, a stream and a table named like the pipeline', () => {
    const pipeline = new IngestPipeline('flights', { schema: Flight })
    assert.equal(pipeline.kind, 'pipeline')
    assert.equal(pipeline.ingestApi, true)
    assert.equal(pipeline.deadLetterQueue, true)
    assert.equal(pipeline.format, 'JSON_ARRAY')
    assert.equal(pipeline.dlqTopic, 'flights.dlq')
    assert.equal(pipeline.constraints, undefined)
    assert.ok(pipeline.stream instanceof Stream)
    assert.ok(pipeline.table instanceof OlapTable)
    assert.equal(pipeline.stream.name, 'flights')
    assert.equal(pipeline.table.name, 'flights')
    assert.equal(pipeline.stream.pipeline, 'flights')
    assert.equal(pipeline.table.pipeline, 'flights')
    assert.equal(pipeline.stream.destination, pipeline.table)
    assert.equal(pipeline.stream.schema, Flight)
    assert.deepEqual(pipeline.stream.config, { parallelism: 1, retentionPeriod: 604_800 })
    assert.deepEqual(pipeline.table.config, { orderByFields: ['id'], engine: 'MergeTree' })
  })

  test('passes stream and table options to its stream and table', () => {
    const pipeline = new IngestPipeline('flights', { schema: Flight, stream: { parallelism: 3, retentionPeriod: 86_400 }, table: { orderByFields: ['id', 'date'], engine: 'ReplacingMergeTree' } })
    assert.deepEqual(pipeline.stream.config, { parallelism: 3, retentionPeriod: 86_400 })
    assert.deepEqual(pipeline.table?.config, { orderByFields: ['id', 'date'], engine: 'ReplacingMergeTree' })
  })

  test('stream: true and table: true mean the defaults', () => {
    const pipeline = new IngestPipeline('flights', { schema: Flight, stream: true, table: true })
    assert.deepEqual(pipeline.stream.config, { parallelism: 1, retentionPeriod: 604_800 })
    assert.deepEqual(pipeline.table?.config, { orderByFields: ['id'], engine: 'MergeTree' })
  })

  test('table: false leaves the pipeline with a stream and no table', () => {
    const pipeline = new IngestPipeline('flights', { schema: Flight, table: false, ingestApi: false, deadLetterQueue: false })
    assert.equal(pipeline.table, undefined)
    assert.equal(pipeline.stream.destination, undefined)
    assert.equal(pipeline.ingestApi, false)
    assert.equal(pipeline.deadLetterQueue, false)
  })

  test('stores constraints as given', () => {
    const constraints = [{ name: 'rate', type: 'rate', config: { per_second: 10 } }]
    assert.equal(new IngestPipeline('flights', { schema: Flight, constraints }).constraints, constraints)
  })

  test('accepts format JSON_ARRAY and rejects any other format', () => {
    assert.equal(new IngestPipeline('flights', { schema: Flight, format: 'JSON_ARRAY' }).format, 'JSON_ARRAY')
    assert.throws(() => new IngestPipeline('flights', { schema: Flight, format: 'CSV' as 'JSON_ARRAY' }), {
      message: 'pipeline "flights": option "format": must be "JSON_ARRAY" (got "CSV"); send each message as one JSON array of records and set format: \'JSON_ARRAY\', or leave format out',
    })
  })

  test('rejects stream: false because a pipeline always has a stream', () => {
    assert.throws(() => new IngestPipeline('flights', { schema: Flight, stream: false }), {
      message: 'pipeline "flights": option "stream": a pipeline always has a stream (got false); remove stream: false, or pass true or { parallelism, retentionPeriod }',
    })
  })

  test('rejects stream or table options that are not a boolean or an object', () => {
    assert.throws(() => new IngestPipeline('flights', { schema: Flight, table: 'yes' as never }), {
      message: 'pipeline "flights": option "table": must be true, false or an options object (got "yes"); pass table: true for the defaults, or an options object',
    })
  })

  test('rejects ingestApi and deadLetterQueue that are not booleans', () => {
    assert.throws(() => new IngestPipeline('flights', { schema: Flight, deadLetterQueue: 1 as never }), {
      message: 'pipeline "flights": option "deadLetterQueue": must be true or false (got 1); set deadLetterQueue: true or false, or leave it out for true',
    })
  })

  test('rejects constraints that are not an array', () => {
    assert.throws(() => new IngestPipeline('flights', { schema: Flight, constraints: {} as never }), {
      message: 'pipeline "flights": option "constraints": must be an array (got {}); pass constraints: [ ... ], or leave it out',
    })
  })

  test('rejects options that are not an object', () => {
    assert.throws(() => new IngestPipeline('flights', undefined as never), {
      message: 'pipeline "flights": options must be an object (got undefined); pass { schema: t.Object({ ... }) }',
    })
  })

  test('rejects a missing schema', () => {
    assert.throws(() => new IngestPipeline('flights', {} as never), {
      message: 'pipeline "flights": the schema must be an object with at least one field; declare it as t.Object({ ... }) with one property per column',
    })
  })

  test('reports problems of its table as the pipeline', () => {
    assert.throws(() => new IngestPipeline('flights', { schema: Flight, table: { orderByFields: ['id', 'note'] } }), {
      message: 'pipeline "flights": field "note": orderByFields must not contain optional fields; make "note" required or remove it from orderByFields',
    })
    assert.throws(() => new IngestPipeline('flights', { schema: t.Object({ id: t.String() }) }), {
      message: 'pipeline "flights": no field is marked Key; wrap exactly one top-level field in Key(...), e.g. id: Key(t.String())',
    })
  })

  test('reports problems of its stream as the pipeline', () => {
    assert.throws(() => new IngestPipeline('flights', { schema: Flight, stream: { parallelism: 0 } }), {
      message: 'pipeline "flights": option "parallelism": must be a positive integer (got 0); set it to 1 or more, or leave it out for 1',
    })
  })

  test('rejects a nullable nested array unless the pipeline sets table: false', () => {
    const schema = t.Object({ id: Key(t.String()), tags: t.Optional(t.Array(t.String())) })
    assert.throws(() => new IngestPipeline('flights', { schema }), {
      message: 'pipeline "flights": field "tags": optional or nullable arrays cannot be ClickHouse columns (Nested type Array(String) cannot be inside Nullable type); make "tags" required and send [] for none, or set table: false on the pipeline',
    })
    assert.doesNotThrow(() => new IngestPipeline('flights', { schema, table: false }))
  })

  test('does not require a Key when the pipeline has no table', () => {
    assert.doesNotThrow(() => new IngestPipeline('flights', { schema: t.Object({ a: t.String() }), table: false }))
  })

  test('still rejects unsupported types when the pipeline has no table', () => {
    assert.throws(() => new IngestPipeline('flights', { schema: t.Object({ a: t.Union([t.String(), t.Number()]) }), table: false }), {
      message: 'pipeline "flights": field "a": unions are not supported except T | null and unions of string literals; split "a" into one field per type, or use one type for all values',
    })
  })

  test('rejects a name that is not an identifier', () => {
    assert.throws(() => new IngestPipeline('flights.v2', { schema: Flight }), {
      message: 'pipeline "flights.v2": the name must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "flights.v2"); use letters, digits and _ only, starting with a letter or _, e.g. "flights_v2"',
    })
  })

  test('a pipeline error carries the pipeline, option and rule as context', () => {
    assert.throws(() => new IngestPipeline('flights', { schema: Flight, stream: false }), (error: { context: unknown }) => {
      assert.deepEqual(error.context, { pipeline: 'flights', option: 'stream', rule: 'option' })
      return true
    })
  })
})

test('unknownFields is ignore by default, may be dead_letter, and anything else is refused in exact words', () => {
  const schema = t.Object({ id: Key(t.String()) })
  assert.equal(new IngestPipeline('uf_default', { schema }).stream.unknownFields, 'ignore')
  assert.equal(new IngestPipeline('uf_dlq', { schema, unknownFields: 'dead_letter' }).stream.unknownFields, 'dead_letter')
  assert.throws(() => new IngestPipeline('uf_bad', { schema, unknownFields: 'drop' as never }), {
    message: `pipeline "uf_bad": option "unknownFields": must be "ignore" or "dead_letter" (got "drop"); use 'ignore' to write records without the fields the schema lacks, or 'dead_letter' to send such records to the DLQ`,
  })
})
