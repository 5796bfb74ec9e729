/**
 * Pass-through of a record's own JSON (src/transforms/passthrough.ts, used by process.ts for a
 * transform-free pipeline writing its own table): which texts go as they came, and that the rows
 * are the ones the parse-and-serialise path writes, checked against JSON.stringify(JSON.parse()).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { IngestPipeline, Key, t } from '../../../src/index.ts'
import { processMessage } from '../../../src/transforms/process.ts'
import { passesAsIs } from '../../../src/transforms/passthrough.ts'

const enc = new TextEncoder()
const asIs = (text: string) => {
  const bytes = enc.encode(`[${text}]`)
  let keys = 0
  try {
    keys = Object.keys(JSON.parse(text) as object).length
  } catch {
    /* not an object */
  }
  return passesAsIs(bytes, 1, bytes.length - 1, keys)
}

test('a flat compact object with strings, booleans, null, integers and fractions goes as it came', () => {
  for (const text of [
    '{"id":"a","n":1}',
    '{"id":"a: {b} [c] 1.0 1e2 \\"q\\" ","n":-12,"f":1.5,"g":0.25,"ok":true,"no":false,"z":null}',
    '{"s":"Zürich \\u00e9 😀","n":123456789012345}',
    '{}',
  ]) {
    assert.equal(asIs(text), true, text)
  }
})

test('what ClickHouse reads differently or refuses goes through JSON.stringify: blanks, nesting, exponents, zero fractions, long integers, repeated keys', () => {
  for (const text of [
    '{"id":"a", "n":1}',
    '{"id":"a",\n"n":1}',
    ' {"id":"a"}',
    '{"id":"a","n":{"x":1}}',
    '{"id":"a","n":[1]}',
    '{"n":1.0}',
    '{"n":2.50,"m":1.000}',
    '{"n":1e2}',
    '{"n":1E2}',
    '{"n":1.5e-3}',
    '{"n":1234567890123456}',
    '{"n":1,"n":2}',
    '"text"',
    '12',
  ]) {
    assert.equal(asIs(text), false, text)
  }
})

const Event = t.Object({ id: Key(t.String()), n: t.Int32(), f: t.Number(), ok: t.Boolean(), s: t.String() })
const lines = (rows: Uint8Array) => Buffer.from(rows).toString().split('\n').slice(0, -1)

test('a transform-free pipeline writes exactly the rows the parse path writes, whether each record passes as it came or not', async () => {
  const p = new IngestPipeline('pt1', { schema: Event, table: true })
  const records = [
    '{"id":"a","n":1,"f":1.5,"ok":true,"s":"x"}',
    '{"id":"b","n":2.0,"f":1,"ok":false,"s":"y"}',
    '{"id":"c", "n":3,"f":2e3,"ok":true,"s":"über"}',
    '{"id":"d","n":4,"f":0.1,"ok":true,"s":"d","s":"twice"}',
    '{"id":"e","n":5,"f":-7.25,"ok":false,"s":"line\\nbreak"}',
  ]
  const r = await processMessage(p.stream, enc.encode(`[${records.join(',\n')}]`))
  assert.equal(r.dlq.length, 0)
  assert.equal(r.tables.length, 1)
  assert.equal(r.tables[0]!.count, 5)
  assert.deepEqual(lines(r.tables[0]!.rows), records.map((text) => JSON.stringify(JSON.parse(text))))
})

test('a message with an invalid record dead-letters that record with its reason and writes the others as the parse path would', async () => {
  const p = new IngestPipeline('pt2', { schema: Event, table: true })
  const good = ['{"id":"a","n":1,"f":1.5,"ok":true,"s":"x"}', '{"id":"c","n":3,"f":2,"ok":true,"s":"z"}']
  const r = await processMessage(p.stream, enc.encode(`[${good[0]},{"id":"b","n":"two","f":1,"ok":true,"s":"y"},${good[1]}]`))
  assert.deepEqual(
    r.dlq.map((d) => [d.index, d.stage, d.errorType, d.reason]),
    [[1, 'validation', 'schema', 'field "n": got string "two", expected integer (Int32)']],
  )
  assert.deepEqual(lines(r.tables[0]!.rows), good)
})

test('a pipeline with a transform or a constraint keeps serialising its own rows', async () => {
  const withTransform = new IngestPipeline('pt3', { schema: Event, table: true })
  withTransform.stream.addConsumer(() => undefined)
  const text = '{"id":"a","n":1,"f":1.5,"ok":true,"s":"x","extra":1}'
  const r = await processMessage(withTransform.stream, enc.encode(`[${text}]`))
  assert.deepEqual(lines(r.tables[0]!.rows), [JSON.stringify(JSON.parse(text))])
  assert.equal(r.unknownFields, 1)
})
