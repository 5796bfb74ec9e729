/**
 * Bad input on the consumer path and on the ingest API, against the real broker and the
 * embedded ClickHouse: every bad message or record lands in the dead-letter queue with its
 * exact reason, partition and offset, and every valid neighbour is written.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { kafka, metricValue, readTopic, removeDir, sql, startDaemon, tempDir, waitFor, type DaemonProcess } from './helpers.ts'

const name = `events_${randomBytes(4).toString('hex')}`
let daemon: DaemonProcess
let dir: string

const moduleText = `
import { IngestPipeline, Key, OlapTable, t } from 'flowhouse'

const Event = t.Object({ id: Key(t.String()), amount: t.Int32(), note: t.String() })

export const events = new IngestPipeline('${name}', { schema: Event, table: false, stream: { parallelism: 1 } })

export const rows = new OlapTable('${name}_rows', t.Object({ id: Key(t.String()), amount: t.Int32(), note: t.String(), doubled: t.Int32() }), { orderByFields: ['id'] })

events.stream.addTransform(rows, (e) => {
  if (e.note === 'boom') throw new Error('boom: refusing this record')
  if (e.note === 'skip') return null
  return [{ ...e, doubled: e.amount * 2 }]
})
`

before(async () => {
  dir = await tempDir('bad-input')
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(path.join(dir, 'pipelines', 'events.ts'), moduleText)
  daemon = await startDaemon({
    pipelinesDir: path.join(dir, 'pipelines'),
    dataDir: path.join(dir, 'data'),
    env: { FLOWHOUSE_BATCH_FLUSH_MS: '300', FLOWHOUSE_INGEST_MAX_BYTES: '4096' },
  })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dir) await removeDir(dir)
})

test('bad messages and bad records go to the DLQ with exact reasons and offsets while valid neighbours are written', { timeout: 120_000 }, async () => {
  const producer = kafka().producer()
  await producer.connect()
  const messages = [
    JSON.stringify([
      { id: 'a1', amount: 1, note: 'ok' },
      { id: 'a2', amount: 'x', note: 'ok' },
      { id: 'a3', amount: 3, note: 'boom' },
      { id: 'a4', amount: 4, note: 'skip' },
      { id: 'a5', amount: 5, note: 'ok' },
    ]),
    'this is not json',
    JSON.stringify({ id: 'b1', amount: 1, note: 'ok' }),
    JSON.stringify([{ id: 'c1', amount: 7, note: 'ok' }, { amount: 8, note: 'ok' }]),
  ]
  // One message at a time so offsets are 0, 1, 2, 3 on the single partition.
  for (const value of messages) await producer.send({ topic: name, messages: [{ value }], acks: -1 })
  await producer.disconnect()

  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_batches_flushed_total', { pipeline: name })) > 0 && (await metricValue(daemon.url, 'flowhouse_records_consumed_total', { pipeline: name })) === 9, {
    what: 'all nine records consumed',
  })
  const rows = await waitFor(async () => {
    const r = await sql<{ id: string; doubled: number }>(daemon.url, `SELECT id, doubled FROM ${name}_rows ORDER BY id`)
    return r.length === 3 ? r : undefined
  }, { what: 'three rows written' })
  assert.deepEqual(rows.map((r) => [r.id, Number(r.doubled)]), [['a1', 2], ['a5', 10], ['c1', 14]])

  const dlq = (await readTopic(`${name}.dlq`, 5)).map((m) => JSON.parse(m.value) as Record<string, unknown>)
  const summary = dlq
    .map((e) => ({ offset: e.offset, index: e.index, stage: e.stage, errorType: e.errorType, partition: e.partition, topic: e.topic }))
    .sort((a, b) => `${a.offset}:${a.index}`.localeCompare(`${b.offset}:${b.index}`))
  assert.deepEqual(summary, [
    { offset: '0', index: 1, stage: 'validation', errorType: 'schema', partition: 0, topic: name },
    { offset: '0', index: 2, stage: 'transform', errorType: 'transform_error', partition: 0, topic: name },
    { offset: '1', index: undefined, stage: 'decode', errorType: 'invalid_json', partition: 0, topic: name },
    { offset: '2', index: undefined, stage: 'decode', errorType: 'not_json_array', partition: 0, topic: name },
    { offset: '3', index: 1, stage: 'validation', errorType: 'schema', partition: 0, topic: name },
  ])
  const reason = (offset: string, index?: number) => dlq.find((e) => e.offset === offset && e.index === index)!.reason
  assert.equal(reason('0', 1), 'field "amount": got string "x", expected integer (Int32)')
  assert.equal(reason('0', 2), `transform to "${name}_rows" threw: boom: refusing this record`)
  assert.match(String(reason('1')), /^message is not valid JSON: /)
  assert.equal(reason('2'), 'message is not a JSON array (got object); the ingest format is JSON_ARRAY')
  assert.equal(reason('3', 1), 'field "id": is missing, expected string')
  assert.equal(dlq.find((e) => e.offset === '1')!.raw, 'this is not json')
  assert.deepEqual(dlq.find((e) => e.offset === '0' && e.index === 1)!.record, { id: 'a2', amount: 'x', note: 'ok' })

  // Accounting: 9 consumed = 3 written + 5 dead-lettered + 1 filtered.
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_written_total', { pipeline: name }), 3)
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: name }), 5)
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: name, stage: 'decode' }), 2)
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_filtered_total', { pipeline: name }), 1)
})

test('the ingest API answers 200 with the count, 400 with index/field/reason and produces nothing, 404 and 413', { timeout: 60_000 }, async () => {
  const post = (pipeline: string, body: string) =>
    fetch(`${daemon.url}/ingest/${pipeline}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })

  const ok = await post(name, JSON.stringify([{ id: 'h1', amount: 10, note: 'ok' }, { id: 'h2', amount: 20, note: 'ok' }]))
  assert.equal(ok.status, 200)
  assert.deepEqual(await ok.json(), { pipeline: name, accepted: 2 })

  const bad = await post(name, JSON.stringify([{ id: 'h3', amount: 1, note: 'ok' }, { id: 'h4', amount: 1.5, note: 'ok' }, { amount: 2, note: 'ok' }]))
  assert.equal(bad.status, 400)
  const badBody = (await bad.json()) as { errors: unknown[] }
  assert.deepEqual(badBody.errors, [
    { index: 1, field: 'amount', reason: 'got number 1.5, expected integer (Int32)' },
    { index: 2, field: 'id', reason: 'is missing, expected string' },
  ])

  const notArray = await post(name, JSON.stringify({ id: 'x' }))
  assert.equal(notArray.status, 400)

  assert.equal((await post('no_such_pipeline', '[]')).status, 404)
  assert.equal((await post(name, JSON.stringify([{ id: 'big', amount: 1, note: 'x'.repeat(5000) }]))).status, 413)

  // Only h1 and h2 arrive; the rejected request produced nothing (h3 is valid but was not sent).
  const ids = await waitFor(async () => {
    const r = await sql<{ id: string }>(daemon.url, `SELECT id FROM ${name}_rows WHERE id LIKE 'h%' ORDER BY id`)
    return r.length >= 2 ? r.map((x) => x.id) : undefined
  }, { what: 'ingested rows' })
  await new Promise((r) => setTimeout(r, 1_000))
  const again = (await sql<{ id: string }>(daemon.url, `SELECT id FROM ${name}_rows WHERE id LIKE 'h%' ORDER BY id`)).map((x) => x.id)
  assert.deepEqual(ids, ['h1', 'h2'])
  assert.deepEqual(again, ['h1', 'h2'])
})
