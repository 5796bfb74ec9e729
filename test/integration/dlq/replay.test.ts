/**
 * Dead-letter tooling against the real broker and the embedded ClickHouse: records a transform
 * refused are dead-lettered, the module is fixed (hot reload), `flowhouse dlq replay` writes
 * them exactly once, a second replay sends nothing, a forced one writes nothing twice, and the
 * counters add up for every table of the pipeline after each step.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { after, before, test } from 'node:test'
import { kafka, metricValue, removeDir, resetKafka, ROOT, sql, startDaemon, tempDir, waitFor, type DaemonProcess } from '../helpers.ts'

const P = `orders_${randomBytes(3).toString('hex')}`
const BIG = `${P}_big`
let dir: string
let pipelinesDir: string
let daemon: DaemonProcess

/** Version 1 throws on a negative amount (the bug); version 2 stores its absolute value. */
const moduleText = (version: number) => `
import { Constraint, IngestPipeline, Key, OlapTable, t } from 'flowhouse'
const Order = t.Object({ id: Key(t.String()), amount: t.Number(), kind: t.String() })
export const orders = new IngestPipeline('${P}', {
  schema: Order,
  stream: { parallelism: 1 },
  constraints: [new Constraint({ name: 'known_kinds', type: 'validation', action: 'drop', config: { rules: { kind: { enum: ['ok', 'skip', 'bad', 'probe'] } } } })],
})
export const big = new OlapTable('${BIG}', t.Object({ id: Key(t.String()), amount: t.Number(), version: t.Int32() }), { orderByFields: ['id'] })
orders.stream.addTransform(big, (o) => {
  if (o.kind === 'skip') return null
  if (o.amount < 0) ${version === 1 ? "throw new Error('negative amount')" : 'return { id: o.id, amount: -o.amount, version: 2 }'}
  return { id: o.id, amount: o.amount, version: ${version} }
})
`

const cli = (...args: string[]) => promisify(execFile)(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), ...args], { cwd: ROOT, env: { ...process.env, FLOWHOUSE_LOG_LEVEL: 'warn' } })
const count = async (table: string, where = '1') => Number((await sql<{ n: string }>(daemon.url, `SELECT count() AS n FROM ${table} WHERE ${where}`))[0]!.n)
const post = (records: object[]) => fetch(`${daemon.url}/ingest/${P}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) })
const m = (name: string, labels: Record<string, string> = {}) => metricValue(daemon.url, name, { pipeline: P, ...labels })

/** The counters of the pipeline, and the equation of docs/metrics.md for each of its tables. */
async function counters() {
  const c = {
    consumed: await m('flowhouse_records_consumed_total'),
    writtenOwn: await m('flowhouse_records_written_total', { table: P }),
    writtenBig: await m('flowhouse_records_written_total', { table: BIG }),
    deadLettered: await m('flowhouse_records_dead_lettered_total'),
    filteredOwn: await m('flowhouse_records_filtered_total', { destination: P }),
    filteredBig: await m('flowhouse_records_filtered_total', { destination: BIG }),
    dropped: await m('flowhouse_records_dropped_total'),
    replayed: await m('flowhouse_records_replayed_total'),
  }
  return c
}

before(async () => {
  await resetKafka([P, `${P}.dlq`, `${P}.dlq.replayed`], [`flowhouse.${P}`])
  dir = await tempDir('dlq-replay')
  pipelinesDir = path.join(dir, 'pipelines')
  await mkdir(pipelinesDir)
  await writeFile(path.join(pipelinesDir, 'orders.ts'), moduleText(1))
  daemon = await startDaemon({ pipelinesDir, dataDir: path.join(dir, 'data'), env: { FLOWHOUSE_BATCH_FLUSH_MS: '200', FLOWHOUSE_RELOAD_INTERVAL_MS: '300' } })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dir) await removeDir(dir)
})

const OK = 20
const SKIP = 5
const BAD = 7
const INVALID = 3
const UNKNOWN = 4

test('dead letters replayed after a fix are written once, a second replay sends nothing, a forced one writes nothing twice, and the counters add up per table', { timeout: 240_000 }, async () => {
  const records = [
    ...Array.from({ length: OK }, (_, i) => ({ id: `ok${i}`, amount: i, kind: 'ok' })),
    ...Array.from({ length: SKIP }, (_, i) => ({ id: `skip${i}`, amount: i, kind: 'skip' })),
    ...Array.from({ length: BAD }, (_, i) => ({ id: `bad${i}`, amount: -1 - i, kind: 'bad' })),
    ...Array.from({ length: UNKNOWN }, (_, i) => ({ id: `unknown${i}`, amount: i, kind: 'test' })),
  ]
  // Invalid records cannot go through the ingest API (it answers 400): produce them directly.
  assert.equal((await post(records)).status, 200)
  const producer = kafka().producer()
  await producer.connect()
  await producer.send({ topic: P, acks: -1, messages: [{ value: JSON.stringify(Array.from({ length: INVALID }, (_, i) => ({ id: `invalid${i}`, amount: 'x', kind: 'ok' }))) }] })
  await producer.disconnect()
  const total = OK + SKIP + BAD + UNKNOWN + INVALID

  const first = await waitFor(async () => {
    const c = await counters()
    return c.consumed === total && c.writtenBig === OK && c.deadLettered === BAD + INVALID && c.dropped === UNKNOWN && c.filteredBig === SKIP ? c : undefined
  }, { what: 'every record accounted for' })
  // The own table holds every valid record of a known kind, the bad ones included.
  assert.equal(first.writtenOwn, OK + SKIP + BAD)
  assert.equal(first.filteredOwn, 0)
  assert.equal(first.consumed, first.writtenBig + first.deadLettered + first.filteredBig + first.dropped)
  assert.equal(await count(P), OK + SKIP + BAD)
  assert.equal(await count(BIG), OK)

  // dlq peek: CLI and API agree on the entries.
  const peek = JSON.parse((await cli('dlq', 'peek', P, '--stage', 'transform', '--format', 'json', '--limit', '3')).stdout) as { total: number; matched: number; entries: Array<{ reason: string; record: { id: string }; writtenTo?: string }> }
  assert.equal(peek.total, BAD + INVALID)
  assert.equal(peek.matched, BAD)
  assert.deepEqual(peek.entries.map((e) => e.record.id), ['bad4', 'bad5', 'bad6'])
  assert.equal(peek.entries[0]!.reason, `transform to "${BIG}" threw: negative amount`)
  assert.equal(peek.entries[0]!.writtenTo, P)
  const apiPeek = (await (await fetch(`${daemon.url}/api/dlq/${P}?stage=validation&filter=reason~amount`)).json()) as { matched: number; entries: Array<{ stage: string }> }
  assert.equal(apiPeek.matched, INVALID)
  assert.deepEqual(new Set(apiPeek.entries.map((e) => e.stage)), new Set(['validation']))

  // Fix the module; probes tell when version 2 runs.
  await writeFile(path.join(pipelinesDir, 'orders.ts'), moduleText(2))
  let probes = 0
  await waitFor(async () => {
    assert.equal((await post([{ id: `probe${probes++}`, amount: 1, kind: 'probe' }])).status, 200)
    return (await count(BIG, "startsWith(id, 'probe') AND version = 2")) > 0
  }, { what: 'the fixed module to run', intervalMs: 500 })
  // Probes are written by either version (version 1 or 2 in the big table).
  await waitFor(async () => (await counters()).consumed === total + probes, { what: 'every probe consumed' })

  const replay = async (...extra: string[]) => JSON.parse((await cli('dlq', 'replay', P, '--stage', 'transform', '--filter', 'record.kind=bad', ...extra)).stdout) as { replayed: number; alreadyReplayed: number; matched: number; notReplayable: Record<string, number> }
  const r1 = await replay()
  assert.equal(r1.matched, BAD)
  assert.equal(r1.replayed, BAD)
  assert.equal(r1.alreadyReplayed, 0)
  await waitFor(async () => (await counters()).replayed === BAD && (await count(BIG, "startsWith(id, 'bad')")) === BAD, { what: 'the replayed records written' })
  assert.equal(await count(P, "startsWith(id, 'bad')"), BAD, 'the own table already held them: not written again')
  const afterReplay = await waitFor(async () => {
    const c = await counters()
    return c.consumed === total + probes + BAD ? c : undefined
  }, { what: 'replayed records consumed' })
  assert.equal(afterReplay.consumed, afterReplay.writtenBig + afterReplay.deadLettered + afterReplay.filteredBig + afterReplay.dropped)
  assert.equal(afterReplay.consumed, afterReplay.writtenOwn + afterReplay.deadLettered + afterReplay.filteredOwn + afterReplay.dropped)
  assert.deepEqual((await sql<{ id: string; amount: number; version: number }>(daemon.url, `SELECT id, amount, version FROM ${BIG} WHERE startsWith(id, 'bad') ORDER BY id`)).map((r) => [r.id, Number(r.amount), Number(r.version)]), Array.from({ length: BAD }, (_, i) => [`bad${i}`, 1 + i, 2]))

  // A second replay finds every entry in the ledger and sends nothing.
  const r2 = await replay()
  assert.equal(r2.replayed, 0)
  assert.equal(r2.alreadyReplayed, BAD)

  // A forced replay sends them again: consumed again, but the replay tokens keep the table at N.
  const r3 = await replay('--force')
  assert.equal(r3.replayed, BAD)
  await waitFor(async () => (await counters()).replayed === 2 * BAD, { what: 'the forced replay consumed' })
  const forced = await waitFor(async () => {
    const c = await counters()
    return c.writtenBig === afterReplay.writtenBig + BAD ? c : undefined
  }, { what: 'the forced replay flushed' })
  assert.equal(await count(BIG, "startsWith(id, 'bad')"), BAD)
  assert.equal(await count(P, "startsWith(id, 'bad')"), BAD)
  assert.equal(forced.consumed, forced.writtenBig + forced.deadLettered + forced.filteredBig + forced.dropped)
})

test('peek shows the newest messages of a stream, with the replay headers on replayed ones', { timeout: 60_000 }, async () => {
  const { messages } = (await (await fetch(`${daemon.url}/api/streams/${P}/peek?limit=2`)).json()) as { messages: Array<{ value: string; headers: Record<string, string> }> }
  assert.equal(messages.length, 2)
  for (const msg of messages) {
    assert.match(msg.headers['flowhouse-replay-of']!, new RegExp(`^${P}:0:\\d+#\\d+$`))
    assert.match(msg.headers['flowhouse-dlq']!, new RegExp(`^${P}\\.dlq:0:\\d+$`))
    assert.equal(msg.headers['flowhouse-replay-skip-table'], P)
  }
  const text = (await cli('peek', P, '--limit', '2')).stdout
  assert.doesNotMatch(text, /\(index\)/)
  assert.match(text, /"kind":"bad"/)
})

test("reset through the admin API of the daemon consuming the pipeline stops its consumer meanwhile, deletes the topics and the group, and the daemon consumes the new topic", { timeout: 90_000 }, async () => {
  const rows = await count(P)
  const reset = await fetch(`${daemon.url}/api/pipelines/${P}/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ confirm: P }) })
  assert.equal(reset.status, 200, await reset.clone().text())
  assert.deepEqual(await reset.json(), { pipeline: P, topics: [P, `${P}.dlq`, `${P}.dlq.replayed`], group: `flowhouse.${P}` })
  // The topic is new: only what is produced after the reset is in it, and the daemon reads it.
  assert.equal((await post([{ id: 'after-reset', amount: 1, kind: 'ok' }])).status, 200)
  await waitFor(async () => (await count(P, "id = 'after-reset'")) === 1, { what: 'the record produced after the reset written' })
  assert.equal(await count(P), rows + 1, 'the table keeps its rows; the one new record is added')
  const admin = kafka().admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchTopicOffsets(P)
    assert.equal(offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0), 1, 'the new topic holds the one message produced after the reset')
    await waitFor(async () => {
      const [t] = await admin.fetchOffsets({ groupId: `flowhouse.${P}`, topics: [P] })
      return t!.partitions.every((c) => Number(c.offset) === Number(offsets.find((o) => o.partition === c.partition)!.high))
    }, { what: 'the new consumer group to commit the new topic' })
  } finally {
    await admin.disconnect()
  }
})

test('the CLI refuses to reset while a daemon consumes the pipeline and without a terminal; with the daemon stopped it deletes the topics and group', { timeout: 90_000 }, async () => {
  await assert.rejects(cli('reset', P, '--yes'), new RegExp(`consumer group "flowhouse\\.${P}" has 1 active member\\(s\\).*POST /api/pipelines/${P}/reset`))
  await assert.rejects(cli('reset', P), /refusing to reset without confirmation: stdin is not a terminal; pass --yes/)
  await daemon.kill('SIGTERM')
  const reset = JSON.parse((await cli('reset', P, '--yes')).stdout) as { topics: string[]; group: string | null }
  assert.deepEqual(reset, { pipeline: P, topics: [P, `${P}.dlq`], group: `flowhouse.${P}` })
  const admin = kafka().admin()
  await admin.connect()
  const topics = await admin.listTopics()
  await admin.disconnect()
  assert.deepEqual(topics.filter((t) => t.startsWith(P)), [])
})
