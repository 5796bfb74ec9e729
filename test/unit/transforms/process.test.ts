import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { IngestPipeline, Key, OlapTable, Stream, t } from '../../../src/index.ts'
import { processMessage } from '../../../src/transforms/process.ts'

/** Table rows with their JSONEachRow bytes as text, for comparing. */
const asText = <T extends { rows: Uint8Array }>(tables: T[]) => tables.map((t) => ({ ...t, rows: utf8(t.rows) }))
const utf8 = (bytes: Uint8Array) => Buffer.from(bytes).toString()

const Event = t.Object({ id: Key(t.String()), n: t.Int32() })
const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value))

function pipeline(name: string) {
  const p = new IngestPipeline(name, { schema: Event, table: false })
  const out = new OlapTable(`${name}_out`, t.Object({ id: Key(t.String()), n2: t.Int32() }), { orderByFields: ['id'] })
  p.stream.addTransform(out, (e) => {
    if (e.n === 13) throw new Error('unlucky')
    if (e.n < 0) return null
    if (e.n === 99) return [{ id: e.id, n2: 'wrong' as unknown as number }]
    return [{ id: e.id, n2: e.n * 2 }]
  })
  return p
}

test('a message that does not parse is one record dead-lettered at stage decode with reason invalid_json and its raw text', async () => {
  const r = await processMessage(pipeline('p1').stream, bytes('{oops'))
  assert.equal(r.records, 1)
  assert.equal(r.dlq.length, 1)
  assert.equal(r.dlq[0]!.stage, 'decode')
  assert.equal(r.dlq[0]!.errorType, 'invalid_json')
  assert.equal(r.dlq[0]!.raw, '{oops')
  assert.deepEqual(r.tables, [])
})

test('a JSON value that is not an array is dead-lettered whole as not_json_array', async () => {
  const r = await processMessage(pipeline('p2').stream, bytes({ id: 'a', n: 1 }))
  assert.deepEqual(
    r.dlq.map((d) => [d.stage, d.errorType, d.reason]),
    [['decode', 'not_json_array', 'message is not a JSON array (got object); the ingest format is JSON_ARRAY']],
  )
})

test('inside an array every record is judged on its own: written, dead-lettered by stage, or filtered', async () => {
  const r = await processMessage(
    pipeline('p3').stream,
    bytes([
      { id: 'a', n: 1 },
      { id: 'b', n: 'x' },
      { id: 'c', n: 13 },
      { id: 'd', n: -1 },
      { id: 'e', n: 99 },
      { id: 'f', n: 2 },
    ]),
  )
  assert.equal(r.records, 6)
  assert.equal(r.filtered, 1)
  assert.deepEqual(r.filteredBy, { p3_out: 1 })
  assert.deepEqual(asText(r.tables), [{ table: 'p3_out', rows: '{"id":"a","n2":2}\n{"id":"f","n2":4}\n', count: 2 }])
  assert.deepEqual(
    r.dlq.map((d) => [d.index, d.stage, d.errorType, d.reason]),
    [
      [1, 'validation', 'schema', 'field "n": got string "x", expected integer (Int32)'],
      [2, 'transform', 'transform_error', 'transform to "p3_out" threw: unlucky'],
      [4, 'transform', 'output_schema', 'transform output does not match "p3_out": field "n2": got string "wrong", expected integer (Int32)'],
    ],
  )
})

test('a pipeline with its own table writes each valid record as-is, and a transform to another stream collects its records', async () => {
  const p = new IngestPipeline('p4', { schema: Event, table: true })
  const next = new Stream('p4_next', t.Object({ id: Key(t.String()), tag: t.String() }))
  p.stream.addTransform(next, (e) => ({ id: e.id, tag: `t${e.n}` }))
  const r = await processMessage(p.stream, bytes([{ id: 'a', n: 1 }]))
  assert.deepEqual(asText(r.tables), [{ table: 'p4', rows: '{"id":"a","n":1}\n', count: 1 }])
  assert.deepEqual(r.topics, [{ topic: 'p4_next', records: ['{"id":"a","tag":"t1"}'] }])
  assert.equal(r.filtered, 0)
})

test('in a pipeline with its own table, a record a transform returns null for is written to the table and counted filtered for the transform destination', async () => {
  const p = new IngestPipeline('p4f', { schema: Event, table: true })
  const out = new OlapTable('p4f_out', t.Object({ id: Key(t.String()), n2: t.Int32() }), { orderByFields: ['id'] })
  p.stream.addTransform(out, (e) => (e.n < 0 ? null : { id: e.id, n2: e.n * 2 }))
  const r = await processMessage(p.stream, bytes([{ id: 'a', n: 1 }, { id: 'b', n: -1 }, { id: 'c', n: -2 }]))
  assert.deepEqual(
    r.tables.map((x) => [x.table, x.count]),
    [['p4f', 3], ['p4f_out', 1]],
  )
  assert.equal(r.filtered, 2)
  assert.deepEqual(r.filteredBy, { p4f_out: 2 })
})

test('each of several transforms gets its own copy of the record, so one mutating it does not change the other', async () => {
  const p = new IngestPipeline('p5', { schema: Event, table: false })
  const a = new OlapTable('p5_a', Event, { orderByFields: ['id'] })
  const b = new OlapTable('p5_b', Event, { orderByFields: ['id'] })
  p.stream.addTransform(a, (e) => {
    e.n = 1000
    return [e]
  })
  p.stream.addTransform(b, (e) => [e])
  const r = await processMessage(p.stream, bytes([{ id: 'x', n: 5 }]))
  assert.deepEqual(
    asText(r.tables).map((x) => [x.table, x.rows]),
    [
      ['p5_a', '{"id":"x","n":1000}\n'],
      ['p5_b', '{"id":"x","n":5}\n'],
    ],
  )
})

const bounds = { maxDepth: 4, maxRecordBytes: 200, rawKeepBytes: 64 }

test('a record nested deeper than the bound is dead-lettered as max_depth_exceeded and its neighbours are written', async () => {
  const deep = '['.repeat(10_000) + ']'.repeat(10_000)
  const r = await processMessage(pipeline('p6').stream, bytes(`[{"id":"a","n":1},${deep},{"id":"c","n":3}]`), { bounds })
  assert.equal(r.records, 3)
  assert.deepEqual(r.dlq.map((d) => [d.index, d.stage, d.errorType, d.truncated, d.rawBytes]), [[1, 'decode', 'max_depth_exceeded', true, 20_000]])
  assert.equal(r.dlq[0]!.raw, '['.repeat(64))
  assert.equal(utf8(r.tables[0]!.rows), '{"id":"a","n2":2}\n{"id":"c","n2":6}\n')
})

test('a message of 10,000 nested objects is dead-lettered whole as max_depth_exceeded with a bounded raw text', async () => {
  const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)
  const r = await processMessage(pipeline('p7').stream, bytes(deep), { bounds })
  assert.deepEqual(r.dlq.map((d) => [d.stage, d.errorType, d.raw?.length, d.rawBytes]), [['decode', 'max_depth_exceeded', 64, deep.length]])
  assert.equal(r.dlq[0]!.rawSha256, createHash('sha256').update(deep).digest('hex'))
})

test('a record over maxRecordBytes is dead-lettered as record_too_large', async () => {
  const r = await processMessage(pipeline('p8').stream, bytes([{ id: 'a', n: 1 }, { id: 'x'.repeat(300), n: 2 }]), { bounds })
  assert.deepEqual(r.dlq.map((d) => [d.index, d.errorType]), [[1, 'record_too_large']])
  assert.equal(r.tables[0]!.count, 1)
})

test('bytes that are not UTF-8, and an empty value, are dead-lettered whole with their own errorType', async () => {
  const bad = new Uint8Array([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d])
  const r = await processMessage(pipeline('p9').stream, bad, { bounds })
  assert.deepEqual(r.dlq.map((d) => [d.errorType, d.rawBytes, d.rawSha256]), [['invalid_utf8', 6, createHash('sha256').update(bad).digest('hex')]])
  const e = await processMessage(pipeline('p10').stream, new Uint8Array(0), { bounds })
  assert.deepEqual(e.dlq.map((d) => [d.stage, d.errorType, d.raw]), [['decode', 'empty_value', '']])
})

test('a message with a deep record and broken JSON elsewhere is invalid_json as a whole', async () => {
  const r = await processMessage(pipeline('p11').stream, bytes(`[[[[[[1]]]]]], {oops}]`), { bounds })
  assert.deepEqual(r.dlq.map((d) => [d.errorType, d.index]), [['invalid_json', undefined]])
})

test('a transform output nested 10,000 deep is dead-lettered as output_schema without the value, so the result can cross back to the main thread', async () => {
  const p = new IngestPipeline('p12', { schema: Event, table: false })
  const out = new OlapTable('p12_out', t.Object({ id: Key(t.String()), n2: t.Int32() }), { orderByFields: ['id'] })
  p.stream.addTransform(out, (e) => {
    if (e.n !== 7) return [{ id: e.id, n2: e.n }]
    let deep: unknown = {}
    for (let i = 0; i < 10_000; i++) deep = { deep }
    return [{ id: e.id, n2: 1, deep } as unknown as { id: string; n2: number }]
  })
  const r = await processMessage(p.stream, bytes([{ id: 'a', n: 1 }, { id: 'b', n: 7 }]), { bounds })
  assert.deepEqual(r.dlq.map((d) => [d.index, d.errorType, 'record' in d, d.raw]), [[1, 'output_schema', false, undefined]])
  assert.doesNotThrow(() => structuredClone(r))
  assert.equal(utf8(r.tables[0]!.rows), '{"id":"a","n2":1}\n')
})

test('fields not in the schema are written as they came and counted under ignore, and dead-lettered under dead_letter', async () => {
  const records = [{ id: 'a', n: 1, extra: true }, { id: 'b', n: 2 }, { id: 'c', n: null }]
  const ignore = await processMessage(new IngestPipeline('uf_i', { schema: t.Object({ id: Key(t.String()), n: t.Optional(t.Int32()) }) }).stream, bytes(records))
  assert.equal(ignore.unknownFields, 1)
  assert.deepEqual(ignore.dlq, [])
  assert.deepEqual(asText(ignore.tables), [{ table: 'uf_i', rows: '{"id":"a","n":1,"extra":true}\n{"id":"b","n":2}\n{"id":"c","n":null}\n', count: 3 }])
  const strict = await processMessage(new IngestPipeline('uf_d', { schema: t.Object({ id: Key(t.String()), n: t.Optional(t.Int32()) }), unknownFields: 'dead_letter' }).stream, bytes(records))
  assert.equal(strict.unknownFields, undefined)
  assert.deepEqual(strict.dlq.map((d) => [d.index, d.stage, d.errorType, d.reason]), [[0, 'validation', 'unknown_fields', 'field "extra": is not in the schema']])
  assert.equal(strict.tables[0]?.count, 2)
})

test('an async transform is awaited record by record: its resolved outputs are written in order, a rejection is a transform_error', async () => {
  const p = new IngestPipeline('p_async', { schema: Event, table: false })
  const out = new OlapTable('p_async_out', t.Object({ id: Key(t.String()), n2: t.Int32() }), { orderByFields: ['id'] })
  p.stream.addTransform(out, async (e) => {
    // Later records resolve sooner: order must still follow the message.
    await new Promise((resolve) => setTimeout(resolve, 10 - e.n))
    if (e.n === 2) throw new Error('async failure')
    return e.n === 3 ? null : [{ id: e.id, n2: e.n * 2 }]
  })
  const r = await processMessage(p.stream, bytes([0, 1, 2, 3, 4].map((n) => ({ id: `r${n}`, n }))))
  assert.deepEqual(asText(r.tables), [{ table: 'p_async_out', rows: '{"id":"r0","n2":0}\n{"id":"r1","n2":2}\n{"id":"r4","n2":8}\n', count: 3 }])
  assert.deepEqual(r.dlq.map((d) => [d.index, d.errorType, d.reason]), [[2, 'transform_error', 'transform to "p_async_out" threw: async failure']])
  assert.deepEqual([r.filtered, r.filteredBy], [1, { p_async_out: 1 }])
})
