import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeMessages } from '../../../src/replay/encode.ts'
import type { RecordChunk } from '../../../src/replay/types.ts'

async function* chunks(sizes: number[]): AsyncGenerator<RecordChunk> {
  let row = 0
  for (const size of sizes) {
    yield { firstRow: row, records: Array.from({ length: size }, (_, i) => ({ id: String(row + i) })) }
    row += size
  }
}

async function messages(sizes: number[], batch: number): Promise<string[][][]> {
  const out = []
  for await (const group of encodeMessages(chunks(sizes), batch)) {
    out.push(group.map((m) => {
      const records = JSON.parse(new TextDecoder().decode(m.value)) as Array<{ id: string }>
      assert.equal(records.length, m.records)
      return records.map((r) => r.id)
    }))
  }
  return out
}

describe('encodeMessages', () => {
  it('cuts records into JSON arrays of exactly batch records across chunk boundaries, the last one shorter', async () => {
    assert.deepEqual(await messages([3, 4, 2], 4), [[['0', '1', '2', '3']], [['4', '5', '6', '7']], [['8']]])
    assert.deepEqual(await messages([5], 2), [[['0', '1'], ['2', '3']], [['4']]])
  })

  it('yields nothing for no records and one message per record with batch 1', async () => {
    assert.deepEqual(await messages([0], 3), [])
    assert.deepEqual(await messages([2], 1), [[['0'], ['1']]])
  })
})
