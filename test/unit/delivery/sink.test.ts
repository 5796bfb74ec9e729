/**
 * The table sink with a stub ClickHouse handle (the module boundary): a batch whose insert fails
 * on some rows' data is split in halves down to single rows, the rows at fault are dead-lettered
 * at stage `insert` and every other row is written once; the split and its tokens depend only on
 * the batch; retriable errors are retried with the same token; other errors stop the batch.
 */
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import type { ClickHouse } from '../../../src/clickhouse/client.ts'
import { writeTable } from '../../../src/delivery/sink.ts'
import { ClickHouseError } from '../../../src/errors.ts'
import { IngestPipeline, Key, t } from '../../../src/index.ts'
import { processMessage } from '../../../src/transforms/process.ts'

interface Insert {
  token: string
  ids: string[]
}

/** A ClickHouse error as clickhouse-js raises it: the numeric code as a string and its name. */
const chError = (code: number, type: string, message: string) => Object.assign(new Error(message), { code: String(code), type })

/**
 * A server-mode handle whose `exec` reads the JSONEachRow body and answers through `answer`
 * (throw to refuse the insert). Every insert is recorded with its token and row ids.
 */
function stubClickHouse(answer: (ids: string[], attempt: number) => void): { ch: ClickHouse; inserts: Insert[] } {
  const inserts: Insert[] = []
  const ch = {
    database: 'fh',
    mode: 'server',
    capabilities: { insertDeduplicationToken: true },
    client: {
      exec: async (params: { values: Readable; clickhouse_settings: Record<string, string> }) => {
        let text = ''
        for await (const chunk of params.values) text += String(chunk)
        const ids = text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id)
        const token = params.clickhouse_settings.insert_deduplication_token!
        inserts.push({ token, ids })
        answer(ids, inserts.filter((i) => i.token === token).length)
        return { stream: Readable.from([]) }
      },
    },
  }
  return { ch: ch as unknown as ClickHouse, inserts }
}

const rows = (ids: string[]) => Buffer.from(ids.map((id) => JSON.stringify({ id, n: 1 })).join('\n') + '\n')
const IDS = ['a', 'b', 'BAD1', 'c', 'd', 'BAD2', 'e', 'f']
const refuseBad = (ids: string[]) => {
  if (ids.some((id) => id.startsWith('BAD'))) throw chError(27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED', 'Cannot parse input: expected \'"\' before: BAD')
}

test('rows ClickHouse cannot parse are isolated by halving and dead-lettered; every other row is written exactly once', async () => {
  const { ch, inserts } = stubClickHouse(refuseBad)
  const result = await writeTable({ ch, pipeline: 'p' }, 't', rows(IDS), 'tok')
  assert.equal(result.written, 6)
  assert.deepEqual(result.rejected.map((r) => (r.record as { id: string }).id), ['BAD1', 'BAD2'])
  for (const r of result.rejected) {
    assert.equal(r.stage, 'insert')
    assert.equal(r.errorType, 'clickhouse_CANNOT_PARSE_INPUT_ASSERTION_FAILED')
    assert.equal(r.table, 't')
    assert.match(r.reason, /^ClickHouse refused the row for "t": ClickHouse error 27/)
  }
  const accepted = inserts.filter((i) => !i.ids.some((id) => id.startsWith('BAD'))).flatMap((i) => i.ids)
  assert.deepEqual(accepted.sort(), ['a', 'b', 'c', 'd', 'e', 'f'], 'each good row in exactly one accepted insert')
  assert.equal(inserts[0]!.token, 'tok', 'the whole batch is tried first under its own token')
  assert.ok(inserts.slice(1).every((i) => /^tok:r\d+-\d+$/.test(i.token)), 'the parts carry tokens derived from the batch token and their row range')
})

test('the split and its tokens depend only on the batch: a replay after a crash sends the same inserts', async () => {
  const first = stubClickHouse(refuseBad)
  const second = stubClickHouse(refuseBad)
  await writeTable({ ch: first.ch, pipeline: 'p' }, 't', rows(IDS), 'tok')
  await writeTable({ ch: second.ch, pipeline: 'p' }, 't', rows(IDS), 'tok')
  assert.ok(first.inserts.length > 3)
  assert.deepEqual(second.inserts, first.inserts)
})

test('a retriable error is retried with the same token and nothing is dead-lettered', async () => {
  let beats = 0
  const { ch, inserts } = stubClickHouse((_ids, attempt) => {
    if (attempt === 1) throw chError(202, 'TOO_MANY_SIMULTANEOUS_QUERIES', 'Too many simultaneous queries')
  })
  const result = await writeTable({ ch, pipeline: 'p', heartbeat: async () => void beats++ }, 't', rows(['a', 'b']), 'tok')
  assert.deepEqual(result, { written: 2, rejected: [] })
  assert.deepEqual(inserts.map((i) => i.token), ['tok', 'tok'])
  assert.ok(beats >= 1, 'the consumer heartbeats while the partition waits')
})

test('an error that is neither retriable nor the rows\' fault stops the batch: nothing is dead-lettered', async () => {
  const { ch, inserts } = stubClickHouse(() => {
    throw chError(60, 'UNKNOWN_TABLE', 'Table fh.t does not exist')
  })
  await assert.rejects(writeTable({ ch, pipeline: 'p' }, 't', rows(IDS), 'tok'), (e: unknown) => e instanceof ClickHouseError && e.chCode === 60)
  assert.equal(inserts.length, 1, 'no split: the rows are not at fault')
})

test('rows with multi-byte UTF-8 text are split on their line breaks: the refused one is dead-lettered as its parsed record', async () => {
  const ids = ['Zürich', 'BAD😀', '東京', 'e']
  const { ch, inserts } = stubClickHouse(refuseBad)
  const result = await writeTable({ ch, pipeline: 'p' }, 't', rows(ids), 'tok')
  assert.equal(result.written, 3)
  assert.deepEqual(result.rejected.map((r) => r.record), [{ id: 'BAD😀', n: 1 }])
  assert.deepEqual(inserts.filter((i) => !i.ids.some((id) => id.startsWith('BAD'))).flatMap((i) => i.ids).sort(), ['e', 'Zürich', '東京'].sort())
})

test('rows a transform-free pipeline passed through as they came are isolated the same way: the refused one is dead-lettered, the others written once', async () => {
  const p = new IngestPipeline('sink_pt', { schema: t.Object({ id: Key(t.String()), n: t.Int32() }), table: true })
  const texts = ['{"id":"a","n":1}', '{"id":"BAD","n":2}', '{"id":"c", "n":3}', '{"id":"d","n":4}']
  const processed = await processMessage(p.stream, new TextEncoder().encode(`[${texts.join(',')}]`))
  const { ch, inserts } = stubClickHouse(refuseBad)
  const result = await writeTable({ ch, pipeline: 'p' }, 'sink_pt', processed.tables[0]!.rows, 'tok')
  assert.equal(result.written, 3)
  assert.deepEqual(result.rejected.map((r) => r.record), [{ id: 'BAD', n: 2 }])
  assert.deepEqual(inserts.filter((i) => !i.ids.includes('BAD')).flatMap((i) => i.ids).sort(), ['a', 'c', 'd'])
})
