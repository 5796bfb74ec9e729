import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { openMessageSource } from '../../../src/replay/message-source.ts'
import { FLIGHTS_2K, FLIGHTS_3M } from './truth.ts'

async function collect(file: string, inWorker: boolean, options: { skip?: number; limit?: number; batch: number }): Promise<{ total: number | undefined; values: string[]; counts: number[] }> {
  const source = await openMessageSource({ file, ...options }, inWorker)
  const values: string[] = []
  const counts: number[] = []
  for await (const group of source.groups) {
    for (const m of group) {
      values.push(Buffer.from(m.value).toString('utf8'))
      counts.push(m.records)
    }
  }
  return { total: source.totalRows, values, counts }
}

describe('openMessageSource', () => {
  it('encodes the same messages in a worker thread as in this thread', { timeout: 60_000 }, async () => {
    for (const [file, options] of [
      [FLIGHTS_3M, { skip: 272_000, limit: 25_000, batch: 700 }],
      [FLIGHTS_2K, { skip: 5, batch: 1_000 }],
    ] as const) {
      const inWorker = await collect(file, true, options)
      const inThread = await collect(file, false, options)
      assert.deepEqual(inWorker, inThread)
      assert.ok(inWorker.values.length > 1)
    }
    const { counts, total } = await collect(FLIGHTS_3M, true, { skip: 10, limit: 2_500, batch: 1_000 })
    assert.deepEqual({ counts, total }, { counts: [1_000, 1_000, 500], total: 2_500 })
  })

  it('passes reader errors from the worker with their code and message', async () => {
    await assert.rejects(openMessageSource({ file: '/nonexistent/x.parquet', batch: 10 }, true), { code: 'NOT_FOUND', message: 'cannot replay "/nonexistent/x.parquet": no such file' })
  })

  it('stops the worker when the consumer stops early', { timeout: 30_000 }, async () => {
    const source = await openMessageSource({ file: FLIGHTS_3M, batch: 1_000 }, true)
    for await (const group of source.groups) {
      assert.ok(group.length > 0)
      break
    }
    await source.close()
  })
})
