import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { collectDefinitions } from '../../../src/model/collect.ts'
import { IngestPipeline } from '../../../src/model/pipeline.ts'
import { Key, t } from '../../../src/model/schema.ts'
import { Stream } from '../../../src/model/stream.ts'
import { OlapTable } from '../../../src/model/table.ts'
import { MaterializedView } from '../../../src/model/view.ts'

const Event = t.Object({ id: Key(t.String()), value: t.Number() })
const file = '/srv/pipelines/events.ts'

function names(defs: ReturnType<typeof collectDefinitions>) {
  return {
    pipelines: defs.pipelines.map((p) => p.name),
    streams: defs.streams.map((s) => s.name),
    tables: defs.tables.map((table) => table.name),
    views: defs.views.map((v) => v.name),
  }
}

describe('collectDefinitions', () => {
  test('an exported pipeline brings its stream and table', () => {
    const events = new IngestPipeline('events', { schema: Event })
    const defs = collectDefinitions(file, { events })
    assert.equal(defs.file, file)
    assert.deepEqual(defs.pipelines, [events])
    assert.deepEqual(defs.streams, [events.stream])
    assert.deepEqual(defs.tables, [events.table])
    assert.deepEqual(defs.views, [])
  })

  test('un-exported objects reachable by reference are included', () => {
    const events = new IngestPipeline('events', { schema: Event })
    const archive = new OlapTable('archive', Event)
    const cleaned = new Stream('cleaned', Event, { destination: archive })
    const audit = new OlapTable('audit', Event)
    events.stream.addTransform(cleaned, (record) => record)
    cleaned.addTransform(audit, (record) => record)
    const source = new OlapTable('source_table', Event)
    const mv = new MaterializedView({ name: 'mv', select: 'SELECT id FROM source_table', source, target: { name: 'mv_target', orderByFields: ['id'] } })
    assert.deepEqual(names(collectDefinitions(file, { events, mv })), {
      pipelines: ['events'],
      streams: ['events', 'cleaned'],
      tables: ['events', 'archive', 'audit', 'source_table'],
      views: ['mv'],
    })
  })

  test('an object exported twice or also reachable by reference is listed once', () => {
    const events = new IngestPipeline('events', { schema: Event })
    const defs = collectDefinitions(file, { events, again: events, stream: events.stream, table: events.table, list: [events] })
    assert.deepEqual(names(defs), { pipelines: ['events'], streams: ['events'], tables: ['events'], views: [] })
  })

  test('objects inside an exported array or plain object are found', () => {
    const a = new IngestPipeline('a', { schema: Event })
    const b = new Stream('b', Event)
    const defs = collectDefinitions(file, { default: { pipelines: [a], more: { streams: [b] } } })
    assert.deepEqual(names(defs), { pipelines: ['a'], streams: ['a', 'b'], tables: ['a'], views: [] })
  })

  test('exports that are not model objects are ignored', () => {
    class Helper {
      stream = new Stream('hidden_in_class', Event)
    }
    const defs = collectDefinitions(file, { helper: new Helper(), fn: () => 1, text: 'x', n: 1, nothing: null, map: new Map([['k', new Stream('hidden_in_map', Event)]]) })
    assert.deepEqual(names(defs), { pipelines: [], streams: [], tables: [], views: [] })
  })

  test('objects built by another copy of flowhouse are recognised by their registry symbol', () => {
    const real = new OlapTable('real', Event)
    const foreign = { ...real, [Symbol.for('flowhouse.model.kind')]: 'table' }
    assert.deepEqual(collectDefinitions(file, { foreign }).tables, [foreign])
  })

  test('a transform destination given by name resolves to the stream of that name', () => {
    const source = new Stream('source', Event)
    const target = new Stream('target', Event)
    source.addTransform('target', (record) => record)
    collectDefinitions(file, { source, target })
    assert.deepEqual(
      source.transforms.map((transform) => [transform.destination, transform.index]),
      [[target, 0]],
    )
  })

  test('a transform destination name resolves to a table when no stream has that name', () => {
    const source = new Stream('source', Event)
    const sink = new OlapTable('sink', Event)
    source.addTransform('sink', (record) => record)
    collectDefinitions(file, { source, sink })
    assert.equal(source.transforms[0]?.destination, sink)
  })

  test('a name shared by a pipeline stream and table resolves to the stream', () => {
    const events = new IngestPipeline('events', { schema: Event })
    const source = new Stream('source', Event).addTransform('events', (record) => record)
    collectDefinitions(file, { events, source })
    assert.equal(source.transforms[0]?.destination, events.stream)
  })

  test('transforms keep their positions when some destinations are given by name', () => {
    const source = new Stream('source', Event)
    const direct = new Stream('direct', Event)
    const named = new Stream('named', Event)
    source.addTransform('named', (record) => record).addTransform(direct, (record) => record)
    collectDefinitions(file, { source, named })
    assert.deepEqual(
      source.transforms.map((transform) => [transform.destination.name, transform.index]),
      [['named', 0], ['direct', 1]],
    )
  })

  test('a stream destination given by name resolves to the table of that name', () => {
    const sink = new OlapTable('sink', Event)
    const stream = new Stream('stream', Event, { destination: 'sink' })
    collectDefinitions(file, { stream, sink })
    assert.equal(stream.destination, sink)
  })

  test('a transform destination name that does not exist in the module is a config error', () => {
    const source = new Stream('source', Event).addTransform('missing', (record) => record)
    assert.throws(() => collectDefinitions(file, { source }), {
      name: 'ConfigError',
      message: 'stream "source": transform 0: destination "missing" does not exist in this module; pass the Stream or OlapTable object, or declare one with that name in the same module',
    })
  })

  test('a stream destination name that does not exist in the module is a config error', () => {
    const stream = new Stream('stream', Event, { destination: 'missing' })
    assert.throws(() => collectDefinitions(file, { stream }), {
      message: 'stream "stream": option "destination": table "missing" does not exist in this module; pass the OlapTable object, or declare a table with that name in the same module',
    })
  })

  test('a transform into its own stream by name is a config error', () => {
    const loop = new Stream('loop', Event).addTransform('loop', (record) => record)
    assert.throws(() => collectDefinitions(file, { loop }), {
      message: 'stream "loop": transform 0: a stream must not transform into itself (records would loop forever); send the records to another stream or to a table',
    })
  })

  test('a name error on a pipeline stream is reported for the pipeline', () => {
    const events = new IngestPipeline('events', { schema: Event })
    events.stream.addTransform('missing', (record) => record)
    assert.throws(() => collectDefinitions(file, { events }), {
      message: 'pipeline "events": transform 0: destination "missing" does not exist in this module; pass the Stream or OlapTable object, or declare one with that name in the same module',
    })
  })
})
