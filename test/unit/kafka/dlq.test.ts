import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import type { Admin, Message } from 'kafkajs'
import type { DlqEntry } from '../../../src/delivery/types.ts'
import { DlqWriter, dlqEntry, fitEntry, splitMessages } from '../../../src/kafka/dlq.ts'

const source = { pipeline: 'p', stream: 'p', topic: 'p', partition: 0, offset: '42' }
const bytesOf = (m: Message) => Buffer.byteLength(m.key as string) + Buffer.byteLength(m.value as string)

/** An admin whose describeConfigs answers `limit` for max.message.bytes. */
function admin(limit: number, calls = { n: 0 }): Admin {
  return {
    describeConfigs: async () => {
      calls.n++
      return { resources: [{ configEntries: [{ configName: 'max.message.bytes', configValue: String(limit) }] }] }
    },
  } as unknown as Admin
}

test('an entry that fits is sent unchanged', () => {
  const e = dlqEntry({ stage: 'validation', errorType: 'schema' as const, reason: 'must be object', index: 3, record: 1 }, source, 't')
  assert.deepEqual(JSON.parse(fitEntry(e, 10_000, 64).value as string), e)
})

test('an entry over the limit keeps the first bytes of its raw text, their size and SHA-256, and its source coordinates', () => {
  const raw = '\u0001'.repeat(100_000)
  const e = dlqEntry({ stage: 'decode', errorType: 'invalid_json', reason: 'bad', raw }, source, 't')
  const m = fitEntry(e, 50_000, 1_000)
  assert.ok(bytesOf(m) + 32 <= 50_000)
  const got = JSON.parse(m.value as string) as DlqEntry
  assert.deepEqual([got.topic, got.partition, got.offset, got.errorType, got.truncated, got.rawBytes], ['p', 0, '42', 'invalid_json', true, 100_000])
  assert.equal(got.raw, raw.slice(0, 1_000))
  assert.equal(got.rawSha256, createHash('sha256').update(raw).digest('hex'))
  assert.equal(m.key, 'p:0:42')
})

test('control bytes that escape to six times their size are cut until the entry fits', () => {
  const e = dlqEntry({ stage: 'decode', errorType: 'invalid_json', reason: 'bad', raw: '\u0001'.repeat(100_000) }, source, 't')
  const m = fitEntry(e, 4_000, 64 * 1024)
  assert.ok(bytesOf(m) + 32 <= 4_000, `${bytesOf(m)}`)
  assert.ok((JSON.parse(m.value as string) as DlqEntry).raw!.length >= 250)
})

test('a record over the limit becomes the first bytes of its JSON text', () => {
  const record = { id: 'x', note: 'y'.repeat(10_000) }
  const m = fitEntry(dlqEntry({ stage: 'validation', errorType: 'schema' as const, reason: 'r', index: 0, record }, source, 't'), 2_000, 500)
  const got = JSON.parse(m.value as string) as DlqEntry
  assert.equal(got.record, undefined)
  assert.equal(got.raw, JSON.stringify(record).slice(0, 500))
  assert.equal(got.rawBytes, JSON.stringify(record).length)
})

test('a worker-truncated entry keeps the size and digest of the original bytes when cut further', () => {
  const e = dlqEntry({ stage: 'decode', errorType: 'invalid_json', reason: 'r', raw: 'z'.repeat(5_000), truncated: true, rawBytes: 9_999_999, rawSha256: 'abc' }, source, 't')
  const got = JSON.parse(fitEntry(e, 2_000, 64 * 1024).value as string) as DlqEntry
  assert.deepEqual([got.rawBytes, got.rawSha256], [9_999_999, 'abc'])
})

test('messages are split into requests that each stay under the limit, in order', () => {
  const messages = Array.from({ length: 1_000 }, (_, i) => ({ message: { key: 'k', value: String(i).padStart(100, '0') }, bytes: 133 }))
  const chunks = splitMessages(messages, 10_000)
  for (const c of chunks) assert.ok(512 + c.length * 133 <= 10_000)
  assert.equal(chunks.length, Math.ceil(1_000 / Math.floor((10_000 - 512) / 133)))
  assert.deepEqual(chunks.flat().map((m) => m.value), messages.map((m) => m.message.value))
})

test('a request holds at most 1,000 messages however small they are, in order', () => {
  const messages = Array.from({ length: 2_500 }, (_, i) => ({ message: { key: 'k', value: String(i) }, bytes: 40 }))
  const chunks = splitMessages(messages, 1024 * 1024)
  assert.deepEqual(chunks.map((c) => c.length), [1_000, 1_000, 500])
  assert.deepEqual(chunks.flat().map((m) => m.value), messages.map((m) => m.message.value))
})

test('100,000 entries of one message go out in requests under the topic limit read from its config, which is read once', async () => {
  const sent: Message[][] = []
  const calls = { n: 0 }
  const writer = new DlqWriter(admin(100_000, calls), { send: async (_t: string, m: Message[]) => void sent.push(m) })
  const items = Array.from({ length: 100_000 }, (_, i) => ({ stage: 'validation' as const, errorType: 'schema' as const, reason: 'must be object', index: i, record: i }))
  await writer.send('p.dlq', [{ source, time: 't', items }])
  await writer.send('p.dlq', [{ source, time: 't', items: items.slice(0, 10) }])
  assert.equal(calls.n, 1)
  assert.equal(sent.flat().length, 100_010)
  for (const chunk of sent) assert.ok(chunk.reduce((n, m) => n + bytesOf(m) + 32, 512) <= 100_000)
  const first = sent[0]![0]!
  assert.equal(first.key, 'p:0:42')
  assert.deepEqual(JSON.parse(first.value as string), dlqEntry(items[0]!, source, 't'))
  assert.deepEqual(Object.keys(JSON.parse(first.value as string) as object), Object.keys(dlqEntry(items[0]!, source, 't')))
})

test('MESSAGE_TOO_LARGE from the broker splits and shrinks instead of retrying the same request', async () => {
  const sent: Message[][] = []
  const attempts: number[] = []
  const producer = {
    send: async (_t: string, m: Message[]) => {
      attempts.push(m.length)
      if (m.reduce((n, x) => n + bytesOf(x), 0) > 3_000) throw Object.assign(new Error('too large'), { name: 'KafkaJSNonRetriableError', cause: { type: 'MESSAGE_TOO_LARGE' } })
      sent.push(m)
    },
  }
  const writer = new DlqWriter(admin(1_000_000), producer)
  const items = [{ stage: 'decode' as const, errorType: 'invalid_json' as const, reason: 'r', raw: 'q'.repeat(20_000) }, ...Array.from({ length: 50 }, (_, i) => ({ stage: 'validation' as const, errorType: 'schema' as const, reason: 'r', index: i, record: i }))]
  await writer.send('p.dlq', [{ source, time: 't', items }])
  assert.equal(sent.flat().length, 51)
  assert.equal((JSON.parse(sent[0]![0]!.value as string) as DlqEntry).truncated, true)
  assert.ok(attempts.length < 30, `${attempts.length} produce attempts`)
})

test('an entry the broker refuses even when shrunk to its coordinates fails the send instead of looping', async () => {
  let attempts = 0
  const writer = new DlqWriter(admin(200), { send: async () => { attempts++; throw Object.assign(new Error('too large'), { type: 'MESSAGE_TOO_LARGE' }) } })
  await assert.rejects(writer.send('p.dlq', [{ source, time: 't', items: [{ stage: 'decode', errorType: 'invalid_json', reason: 'r', raw: 'x'.repeat(1_000) }] }]), /too large/)
  assert.ok(attempts <= 12, `${attempts} attempts`)
})

test('a retriable produce error is thrown to the caller, which retries the batch', async () => {
  const writer = new DlqWriter(admin(1_000_000), { send: async () => { throw Object.assign(new Error('leader not available'), { type: 'LEADER_NOT_AVAILABLE', retriable: true }) } })
  await assert.rejects(writer.send('p.dlq', [{ source, time: 't', items: [{ stage: 'decode', errorType: 'invalid_json', reason: 'r' }] }]), /leader not available/)
})

test('items serialised by the worker become the same entries as items sent as objects, an oversized one shrunk', async () => {
  const sent: Message[] = []
  const writer = new DlqWriter(admin(4_000), { send: async (_t: string, m: Message[]) => void sent.push(...m) })
  const items = [
    { stage: 'validation' as const, errorType: 'schema' as const, reason: 'must be object', index: 0, record: 1 },
    { stage: 'decode' as const, errorType: 'record_too_large' as const, reason: 'r', index: 1, raw: 'z'.repeat(10_000) },
  ]
  await writer.send('p.dlq', [{ source, time: 't', items: [], texts: items.map((i) => JSON.stringify(i).slice(1, -1)) }])
  assert.deepEqual(JSON.parse(sent[0]!.value as string), dlqEntry(items[0]!, source, 't'))
  const shrunk = JSON.parse(sent[1]!.value as string) as DlqEntry
  assert.deepEqual([shrunk.index, shrunk.errorType, shrunk.truncated, shrunk.rawBytes], [1, 'record_too_large', true, 10_000])
  assert.ok(bytesOf(sent[1]!) < 4_000)
})
