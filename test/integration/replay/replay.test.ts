/**
 * The replay engine against the real local Kafka broker (scripts/services.sh up kafka): records
 * produced from the real flights files are read back with a kafkajs consumer and compared with
 * ClickHouse's own read of the same file (chdb), not with the replay readers.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { query } from 'chdb'
import { fileURLToPath } from 'node:url'
import { runReplayCommand } from '../../../src/replay/command.ts'
import { replay } from '../../../src/replay/replay.ts'
import type { ReplayProgress } from '../../../src/replay/types.ts'
import { BROKERS, createTopic, deleteTopic, readAllMessages, type ReadMessage } from './kafka-helpers.ts'

const DATA = fileURLToPath(new URL('../../../node_modules/vega-datasets/data/', import.meta.url))
const FLIGHTS_3M = `${DATA}flights-3m.parquet`
const FLIGHTS_2K = `${DATA}flights-2k.json`

const topics: string[] = []
async function topic(partitions: number): Promise<string> {
  const name = await createTopic(partitions)
  topics.push(name)
  return name
}
after(async () => {
  for (const name of topics) await deleteTopic(name).catch(() => undefined)
})

/** Sum of delay and row count over rows [skip, skip + limit) of the parquet file, in file order, as ClickHouse computes it. */
function parquetTruth(skip: number, limit: number): { n: number; delay: number } {
  const text = query(
    `SELECT count() AS n, toFloat64(sum(delay)) AS delay FROM (SELECT delay FROM file('${FLIGHTS_3M}', Parquet) LIMIT ${limit} OFFSET ${skip}
     SETTINGS max_threads = 1, input_format_parquet_preserve_order = 1) SETTINGS output_format_json_quote_64bit_integers = 0`,
    'JSONEachRow',
  )
  return JSON.parse(text) as { n: number; delay: number }
}

/** Parses every message as one JSON array; returns the records and each message's length. */
function decode(messages: ReadMessage[]): { records: Array<Record<string, unknown>>; sizes: number[] } {
  const records: Array<Record<string, unknown>> = []
  const sizes: number[] = []
  for (const m of messages) {
    const value: unknown = JSON.parse(m.value)
    assert.ok(Array.isArray(value), `message ${m.partition}/${m.offset} is a JSON array`)
    sizes.push(value.length)
    for (const r of value as Array<Record<string, unknown>>) records.push(r)
  }
  return { records, sizes }
}

function assertIdsExactlyOnce(records: Array<Record<string, unknown>>, from: number, count: number): void {
  const seen = new Uint8Array(count)
  for (const r of records) {
    const i = Number(r.id) - from
    assert.ok(Number.isInteger(i) && i >= 0 && i < count && String(r.id) === String(i + from), `id ${String(r.id)} in range`)
    assert.equal(seen[i], 0, `id ${String(r.id)} seen once`)
    seen[i] = 1
  }
  assert.equal(records.length, count)
}

describe('replay to a real Kafka broker', () => {
  it('replays 20,000 parquet rows as JSON arrays of at most batch records, ids 0..19999 once each, delay sum as ClickHouse computes it', { timeout: 120_000 }, async () => {
    const name = await topic(3)
    const updates: ReplayProgress[] = []
    const result = await replay({ file: FLIGHTS_3M, topic: name, brokers: BROKERS, limit: 20_000, batch: 700, onProgress: (p) => updates.push(p) })
    assert.equal(result.records, 20_000)
    assert.equal(result.messages, Math.ceil(20_000 / 700))
    assert.equal(result.aborted, false)

    const messages = await readAllMessages(name)
    assert.equal(messages.length, result.messages)
    assert.equal(messages.reduce((sum, m) => sum + Buffer.byteLength(m.value), 0), result.bytes)
    const { records, sizes } = decode(messages)
    assert.ok(sizes.every((n) => n >= 1 && n <= 700), 'every message holds 1..batch records')
    assert.deepEqual(sizes.filter((n) => n < 700), [20_000 % 700], 'only the last message is shorter')
    assertIdsExactlyOnce(records, 0, 20_000)

    const truth = parquetTruth(0, 20_000)
    assert.equal(records.reduce((sum, r) => sum + (r.delay as number), 0), truth.delay)
    assert.equal(records.length, truth.n)
    assert.match(String(records.find((r) => r.id === '0')!.date), /^2001-01-01T00:01:00\.000Z$/)

    // Round-robin over partitions: message counts differ by at most one, and in each partition the
    // messages follow file order.
    const perPartition = [0, 1, 2].map((p) => messages.filter((m) => m.partition === p).sort((a, b) => a.offset - b.offset))
    const counts = perPartition.map((ms) => ms.length)
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `messages per partition ${counts.join(',')}`)
    for (const ms of perPartition) {
      const firstIds = ms.map((m) => Number((JSON.parse(m.value) as Array<{ id: string }>)[0]!.id))
      assert.deepEqual(firstIds, [...firstIds].sort((a, b) => a - b))
    }

    assert.ok(updates.length > 0)
    assert.deepEqual(updates.at(-1), { ...updates.at(-1)!, records: 20_000, messages: result.messages, bytes: result.bytes, total: 20_000 })
  })

  it('replays a row range with skip: ids are the file row numbers and the delay sum matches those rows', { timeout: 120_000 }, async () => {
    const name = await topic(2)
    const result = await replay({ file: FLIGHTS_3M, topic: name, brokers: BROKERS, skip: 272_000, limit: 5_000, idempotent: false })
    assert.equal(result.records, 5_000)
    const { records } = decode(await readAllMessages(name))
    assertIdsExactlyOnce(records, 272_000, 5_000)
    assert.equal(records.reduce((sum, r) => sum + (r.delay as number), 0), parquetTruth(272_000, 5_000).delay)
  })

  it('replays a JSON array file with ISO dates and row-number ids', { timeout: 60_000 }, async () => {
    const name = await topic(1)
    const result = await replay({ file: FLIGHTS_2K, topic: name, brokers: BROKERS, batch: 500, encodeInWorker: false })
    assert.deepEqual([result.records, result.messages], [2_000, 4])
    const { records, sizes } = decode(await readAllMessages(name))
    assert.deepEqual(sizes, [500, 500, 500, 500])
    assertIdsExactlyOnce(records, 0, 2_000)
    assert.deepEqual(records[0], { date: '2001-01-01T06:55:00.000Z', delay: -19, distance: 1797, origin: 'LAX', destination: 'BNA', id: '0' })
  })

  it('holds the records-per-second limit, with small messages for a smooth pace', { timeout: 60_000 }, async () => {
    const name = await topic(1)
    const result = await replay({ file: FLIGHTS_2K, topic: name, brokers: BROKERS, limit: 1_500, rate: 1_000 })
    // The bucket starts with 0.1 s of records; the remaining 1,400 take at least 1.4 s.
    assert.equal(result.records, 1_500)
    assert.ok(result.durationMs >= 1_350, `took ${Math.round(result.durationMs)} ms`)
    const { sizes } = decode(await readAllMessages(name))
    assert.ok(sizes.every((n) => n === 100), 'rate 1000/s sends messages of 100 records')
  })

  it('stops on abort after flushing in-flight sends: the records sent are exactly the first ones, so skip resumes', { timeout: 60_000 }, async () => {
    const name = await topic(2)
    const controller = new AbortController()
    const result = await replay({
      file: FLIGHTS_3M,
      topic: name,
      brokers: BROKERS,
      limit: 100_000,
      rate: 20_000,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.records >= 10_000) controller.abort()
      },
    })
    assert.equal(result.aborted, true)
    assert.ok(result.records >= 10_000 && result.records < 100_000, `${result.records} records`)
    const { records } = decode(await readAllMessages(name))
    assertIdsExactlyOnce(records, 0, result.records)

    const rest = await replay({ file: FLIGHTS_3M, topic: name, brokers: BROKERS, skip: result.records, limit: 100_000 - result.records })
    assert.equal(rest.records, 100_000 - result.records)
    const all = decode(await readAllMessages(name)).records
    assertIdsExactlyOnce(all, 0, 100_000)
    assert.equal(all.reduce((sum, r) => sum + (r.delay as number), 0), parquetTruth(0, 100_000).delay)
  })

  it('fails with a clear message when the pipeline topic does not exist', { timeout: 30_000 }, async () => {
    await assert.rejects(runReplayCommand({ file: FLIGHTS_2K, pipeline: 'replay-test-no-such-topic', brokers: BROKERS.join(','), progress: { stream: { write: () => true } } }), {
      code: 'NOT_FOUND',
      message: 'topic "replay-test-no-such-topic" does not exist: start the daemon with the pipeline first',
    })
  })

  it('runs as the CLI command: progress and a summary line on the given stream', { timeout: 60_000 }, async () => {
    const name = await topic(2)
    let text = ''
    const result = await runReplayCommand({ file: FLIGHTS_3M, pipeline: name, limit: '3000', batch: '1000', brokers: BROKERS.join(','), progress: { stream: { write: (s: string) => (text += s) }, tty: false } })
    assert.equal(result.records, 3_000)
    const lines = text.trim().split('\n')
    assert.match(lines[0]!, new RegExp(`^replay ${name}: [\\d,]+ / 3,000 records \\(\\d+\\.\\d%\\)  [\\d,]+ rec/s  \\d+\\.\\d MB`))
    assert.match(lines.at(-1)!, new RegExp(`^replay ${name}: sent 3,000 records in 3 messages \\(0\\.\\d MB\\) in \\d+\\.\\d s, [\\d,]+ rec/s$`))
  })
})
