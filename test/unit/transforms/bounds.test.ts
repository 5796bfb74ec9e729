import assert from 'node:assert/strict'
import { test } from 'node:test'
import { scanJson, scanJsonInSlices } from '../../../src/transforms/bounds.ts'

const enc = new TextEncoder()
const limits = { maxDepth: 3, maxRecordBytes: 20 }
const scan = (text: string, l = limits) => scanJson(enc.encode(text), l)

function nested(open: string, close: string, levels: number, inner = '1'): string {
  return open.repeat(levels) + inner + close.repeat(levels)
}

test('the depth of a message counts the top-level array as one level and each container inside it as one more', () => {
  assert.equal(scan('[]').depth, 1)
  assert.equal(scan('[1, "a", true]').depth, 1)
  assert.equal(scan('[{"a": [1]}]').depth, 3)
  assert.equal(scan('{"a": {"b": 1}}').depth, 2)
  assert.equal(scan('"just a string"').depth, 0)
})

test('brackets inside strings, after escaped quotes and escaped backslashes do not count', () => {
  assert.equal(scan('[{"a": "[[[[{{{{"}]').depth, 2)
  assert.equal(scan('[{"a": "x\\"[[[[["}]').depth, 2)
  assert.equal(scan('[{"a": "x\\\\"}, [[1]]]').depth, 3)
})

test('a record nested deeper than maxDepth is reported with its index and byte range while its neighbours are not', () => {
  const deep = nested('[', ']', 4)
  const text = `[{"id": 1}, ${deep}, {"id": 3}]`
  const r = scan(text, { maxDepth: 3, maxRecordBytes: 1_000 })
  assert.equal(r.array, true)
  assert.deepEqual(r.bad, [{ index: 1, start: 12, end: 12 + deep.length, bound: 'max_depth_exceeded', bytes: deep.length }])
  const texts = []
  for (let i = 0; i < r.ranges.length; i += 2) texts.push(text.slice(r.ranges[i], r.ranges[i + 1]))
  assert.deepEqual(texts, ['{"id": 1}', deep, '{"id": 3}'])
})

test('a record exactly at maxDepth passes', () => {
  assert.deepEqual(scan(`[${nested('{"a":', '}', 3)}]`, { maxDepth: 3, maxRecordBytes: 1_000 }).bad, [])
})

test('a record whose text is over maxRecordBytes is reported as record_too_large, scalars and strings included', () => {
  const big = `"${'x'.repeat(30)}"`
  const r = scan(`[1, ${big}, 123456789012345678901234567890, {"a": 1}]`)
  assert.deepEqual(r.bad.map((b) => [b.index, b.bound, b.bytes]), [[1, 'record_too_large', 32], [2, 'record_too_large', 30]])
})

test('10,000 nested arrays and 10,000 nested objects are measured without recursion', () => {
  const arrays = scanJson(enc.encode(nested('[', ']', 10_000)), { maxDepth: 64, maxRecordBytes: 1 << 20 })
  assert.equal(arrays.depth, 66)
  assert.deepEqual(arrays.bad.map((b) => [b.index, b.bound]), [[0, 'max_depth_exceeded']])
  const objects = scanJson(enc.encode(nested('{"a":', '}', 10_000)), { maxDepth: 64, maxRecordBytes: 1 << 20 })
  assert.equal(objects.array, false)
  assert.equal(objects.depth, 66)
  assert.deepEqual(objects.bad, [])
})

test('multi-byte UTF-8 characters do not confuse the scan', () => {
  const r = scan('[{"é": "日本語 [ ] { }"}, "ü"]', { maxDepth: 1, maxRecordBytes: 1_000 })
  assert.equal(r.depth, 2)
  assert.deepEqual(r.bad, [])
})

test('unclosed strings or brackets and trailing text make the scan unbalanced (not JSON)', () => {
  const deep = nested('[', ']', 5)
  assert.equal(scan(`[${deep}, "open`).balanced, false)
  assert.equal(scan(`[${deep}`).balanced, false)
  assert.equal(scan(`[${deep}] [1]`).balanced, false)
  assert.equal(scan(`[${deep}]]`).balanced, false)
  assert.equal(scan(`[${deep}]  \n`).balanced, true)
  for (const text of ['[1,]', '[,1]', '[1,,2]', '[{} {}]', '[{},]']) assert.equal(scan(text).balanced, false, text)
  for (const text of ['[]', '[ ]', '[1]', '[{}, [], "a", 2]']) assert.equal(scan(text).balanced, true, text)
})

test('scanning in slices with pauses between them finds exactly what one scan finds', async () => {
  const texts = [`[{"a": "x\\\\"}, ${nested('[', ']', 6)}, "${'y'.repeat(40)}", 12, {"b": [1, {"c": "]"}]}]`, nested('{"a":', '}', 9), '[1,,2]', '[{"open": "]']
  for (const text of texts) {
    const bytes = enc.encode(text)
    let pauses = 0
    for (const slice of [1, 3, 7, 1_000]) {
      const sliced = await scanJsonInSlices(bytes, limits, slice, async () => void pauses++)
      assert.deepEqual(sliced, scanJson(bytes, limits), `${text} in slices of ${slice}`)
    }
    assert.ok(pauses > 0)
  }
})
