/**
 * JSONEachRow bytes (src/util/lines.ts): encoding lines into a buffer that owns its whole
 * ArrayBuffer (so a worker can transfer it), splitting them on line breaks and joining them
 * again, checked against Buffer's own UTF-8 encoding of the joined text.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BytePool, concatInto, encodeLines, joinLines, splitLines } from '../../../src/util/lines.ts'

const expected = (lines: string[]) => Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8')

test('encoded lines are the UTF-8 of the lines joined by line breaks, in an ArrayBuffer of exactly their length', () => {
  const cases: string[][] = [
    [],
    [''],
    ['{"id":"a","n":1}', '{"id":"b","n":2}'],
    ['{"city":"Zürich"}', '{"emoji":"😀👍"}', '{"cjk":"東京"}', '{"plain":1}'],
    ['é'.repeat(10_000), 'x', '😀'.repeat(3_000)],
  ]
  for (const lines of cases) {
    const bytes = encodeLines(lines)
    assert.deepEqual(Buffer.from(bytes), expected(lines))
    assert.equal(bytes.byteOffset, 0)
    assert.equal(bytes.buffer.byteLength, bytes.byteLength, 'the buffer holds nothing else (it is transferred whole)')
  }
})

test('split lines are views of the text without their breaks, and joining them gives the same bytes back', () => {
  const lines = ['{"a":1}', '{"b":"ü"}', '{"c":"😀"}']
  const bytes = encodeLines(lines)
  const split = splitLines(bytes)
  assert.deepEqual(split.map((l) => Buffer.from(l).toString()), lines)
  assert.ok(split.every((l) => l.buffer === bytes.buffer), 'no copy')
  assert.deepEqual(Buffer.from(joinLines(split)), Buffer.from(bytes))
  assert.deepEqual(Buffer.from(joinLines(split.slice(1, 2))), expected(['{"b":"ü"}']))
  assert.deepEqual(splitLines(new Uint8Array(0)), [])
  assert.deepEqual(splitLines(Buffer.from('{"a":1}')).map((l) => Buffer.from(l).toString()), ['{"a":1}'], 'a last line without a break counts')
})

test('parts concatenated into a pooled body are their bytes in order, and a body given back is reused, never handed out twice at once', () => {
  const pool = new BytePool(2, 1024)
  const parts = [encodeLines(['{"a":1}']), encodeLines([]), encodeLines(['{"b":2}', '{"c":3}'])]
  const first = concatInto(parts, pool.take(24))
  assert.deepEqual(Buffer.from(first), expected(['{"a":1}', '{"b":2}', '{"c":3}']))
  const second = pool.take(24)
  assert.notEqual(second.buffer, first.buffer, 'a body in use is not handed out again')
  pool.give(first)
  const third = pool.take(10)
  assert.equal(third.buffer, first.buffer, 'a body given back is reused for a smaller one')
  assert.equal(third.byteLength, 10)
  assert.deepEqual(Buffer.from(concatInto([encodeLines(['{"d":4}']), encodeLines(['x'])], third)), expected(['{"d":4}', 'x']))
  const big = pool.take(2048)
  pool.give(big)
  assert.notEqual(pool.take(2048).buffer, big.buffer, 'a buffer over the size bound is not kept')
})

test('text lines with multi-byte characters followed by byte lines: every line and its break is kept', () => {
  const enc = new TextEncoder()
  const lines: Array<string | Uint8Array> = ['{"a":"über"}', enc.encode('{"b":1}'), '東京', enc.encode('{"c":"😀"}'), 'x']
  const bytes = encodeLines(lines)
  assert.deepEqual(Buffer.from(bytes), expected(lines.map((l) => (typeof l === 'string' ? l : Buffer.from(l).toString()))))
  assert.equal(bytes.buffer.byteLength, bytes.byteLength)
})
