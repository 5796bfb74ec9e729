import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { JsonArraySplitter } from '../../../src/replay/json-reader.ts'

const records = [{ s: 'a,b]}', q: 'say "hi" \\ [x]' }, { n: [1, [2, { m: '}' }]], u: 'é ☃ 😀' }, { e: {} }, { z: null }]
const text = ` [ ${records.map((r) => JSON.stringify(r)).join(' ,\n')} ] `

function splitInto(pieces: string[]): unknown[] {
  const splitter = new JsonArraySplitter()
  const out: unknown[] = []
  for (const piece of pieces) for (const element of splitter.push(piece)) out.push(JSON.parse(element))
  splitter.end()
  return out
}

describe('JsonArraySplitter', () => {
  it('finds the same elements wherever the text is cut into pieces (strings, escapes, nesting, unicode)', () => {
    for (let cut = 0; cut <= text.length; cut++) {
      assert.deepEqual(splitInto([text.slice(0, cut), text.slice(cut)]), records, `cut at ${cut}`)
    }
    assert.deepEqual(splitInto([...text]), records, 'one character at a time')
  })

  it('accepts a trailing-comma-free empty array and rejects a trailing comma', () => {
    assert.deepEqual(splitInto(['[]']), [])
    assert.throws(() => splitInto(['[{"a":1},]']), { code: 'DECODE_FAILED', message: 'empty element at position 1 of the array' })
  })
})
