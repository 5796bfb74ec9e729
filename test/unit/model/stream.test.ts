import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { IngestPipeline } from '../../../src/model/pipeline.ts'
import { Key, t } from '../../../src/model/schema.ts'
import { Stream } from '../../../src/model/stream.ts'
import { OlapTable } from '../../../src/model/table.ts'
import { MaterializedView } from '../../../src/model/view.ts'

const Event = t.Object({ id: Key(t.String()), value: t.Number() })
const Enriched = t.Object({ id: Key(t.String()), value: t.Number(), doubled: t.Number() })

describe('Stream', () => {
  test('defaults to parallelism 1 and a retention of 604800 seconds', () => {
    const stream = new Stream('events', Event)
    assert.equal(stream.kind, 'stream')
    assert.deepEqual(stream.config, { parallelism: 1, retentionPeriod: 604_800 })
    assert.equal(stream.destination, undefined)
    assert.equal(stream.pipeline, undefined)
    assert.deepEqual(stream.transforms, [])
    assert.deepEqual(stream.consumers, [])
  })

  test('keeps the given parallelism and retention', () => {
    assert.deepEqual(new Stream('events', Event, { parallelism: 4, retentionPeriod: 3600 }).config, { parallelism: 4, retentionPeriod: 3600 })
  })

  test('allows a schema without a Key and with optional arrays, since a stream is not a table', () => {
    assert.doesNotThrow(() => new Stream('events', t.Object({ tags: t.Optional(t.Array(t.String())) })))
  })

  test('rejects a parallelism that is not a positive integer', () => {
    for (const [parallelism, got] of [[0, '0'], [-1, '-1'], [1.5, '1.5'], ['2', '"2"']] as const) {
      assert.throws(() => new Stream('events', Event, { parallelism: parallelism as number }), {
        message: `stream "events": option "parallelism": must be a positive integer (got ${got}); set it to 1 or more, or leave it out for 1`,
      })
    }
  })

  test('rejects a retentionPeriod that is not a positive integer number of seconds', () => {
    assert.throws(() => new Stream('events', Event, { retentionPeriod: 0.5 }), {
      message: 'stream "events": option "retentionPeriod": must be a positive integer number of seconds (got 0.5); give it in whole seconds, e.g. 86400 for one day, or leave it out for 604800 (7 days)',
    })
  })

  test('rejects a Key on a nested field', () => {
    assert.throws(() => new Stream('events', t.Object({ a: t.Object({ b: Key(t.String()) }) })), {
      message: 'stream "events": field "a.b": Key must be on a top-level field; move Key(...) to a top-level field of the schema',
    })
  })

  test('rejects an unsupported type with the stream named', () => {
    assert.throws(() => new Stream('events', t.Object({ a: t.Any() })), {
      message: 'stream "events": field "a": any/unknown is not supported; give the field a concrete type such as t.String() or t.Number()',
    })
  })

  test('addTransform records the destination, the function and its position', () => {
    const source = new Stream('events', Event)
    const enriched = new Stream('enriched', Enriched)
    const table = new OlapTable('raw_events', Event)
    const double = (record: { id: string; value: number }) => ({ ...record, doubled: record.value * 2 })
    assert.equal(source.addTransform(enriched, double).addTransform(table, (record) => record), source)
    assert.deepEqual(
      source.transforms.map((transform) => [transform.destination, transform.index]),
      [[enriched, 0], [table, 1]],
    )
    assert.equal(source.transforms[0]!.fn, double)
  })

  test('addTransform to a pipeline sends records to the pipeline stream', () => {
    const pipeline = new IngestPipeline('enriched', { schema: Enriched })
    const source = new Stream('events', Event).addTransform(pipeline, (record) => ({ ...record, doubled: 0 }))
    assert.equal(source.transforms[0]!.destination, pipeline.stream)
  })

  test('a transform destination given by name is not listed until it is resolved', () => {
    const source = new Stream('events', Event).addTransform('enriched', (record) => record)
    assert.deepEqual(source.transforms, [])
  })

  test('addConsumer records the function', () => {
    const consume = () => {}
    assert.deepEqual(new Stream('events', Event).addConsumer(consume).consumers, [consume])
  })

  test('rejects a transform that is not a function', () => {
    assert.throws(() => new Stream('events', Event).addTransform(new Stream('b', Event), 5 as never), {
      message: 'stream "events": transform 0: the transform must be a function (got 5); pass (record) => records, a record, or null',
    })
  })

  test('rejects a transform destination that is not a stream, table, pipeline or name', () => {
    assert.throws(() => new Stream('events', Event).addTransform({ name: 'x' } as never, () => null), {
      message: 'stream "events": transform 0: the destination must be a Stream, an OlapTable, an IngestPipeline or the name of one in this module (got an object); pass one of these as the first argument of addTransform',
    })
    const view = new MaterializedView({ name: 'v', select: 'SELECT 1', source: 'events_table', target: { name: 'v_target', orderByFields: ['x'] } })
    assert.throws(() => new Stream('events', Event).addTransform(view as never, () => null), {
      message: 'stream "events": transform 0: the destination must be a Stream, an OlapTable, an IngestPipeline or the name of one in this module (got a MaterializedView); pass one of these as the first argument of addTransform',
    })
  })

  test('rejects a destination name that is not an identifier', () => {
    assert.throws(() => new Stream('events', Event).addTransform('bad name', (record) => record), {
      message: 'stream "events": transform 0: a destination name must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "bad name"); use letters, digits and _ only, starting with a letter or _, e.g. "bad_name"',
    })
  })

  test('rejects a stream that transforms into itself', () => {
    const stream = new Stream('events', Event)
    assert.throws(() => stream.addTransform(stream, (record) => record), {
      message: 'stream "events": transform 0: a stream must not transform into itself (records would loop forever); send the records to another stream or to a table',
    })
  })

  test('rejects a consumer that is not a function', () => {
    assert.throws(() => new Stream('events', Event).addConsumer(null as never), {
      message: 'stream "events": addConsumer needs a function (got null); pass (record) => void',
    })
  })

  test('accepts a destination table and rejects anything else', () => {
    const table = new OlapTable('raw_events', Event)
    assert.equal(new Stream('events', Event, { destination: table }).destination, table)
    assert.throws(() => new Stream('events', Event, { destination: 42 as never }), {
      message: 'stream "events": option "destination": must be an OlapTable or the name of one in this module (got 42); pass an OlapTable, or leave destination out',
    })
    const tableless = new IngestPipeline('other', { schema: Event, table: false })
    assert.throws(() => new Stream('events', Event, { destination: tableless }), {
      message: 'stream "events": option "destination": must be an OlapTable or the name of one in this module (got pipeline "other" without a table); pass an OlapTable, or leave destination out',
    })
  })
})
