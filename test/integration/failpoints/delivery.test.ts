/**
 * Exactly-once across crashes, proven at the moment it can break. 20,000 real flights (and a bad
 * record in each partition after every 4,000, so every batch has dead-letter entries) are in the topic before the
 * daemon starts. The daemon is armed to die (SIGKILL from inside, as kill -9) at one step of the
 * delivery protocol on its third batch; a second daemon starts on the same data folder and group.
 * The restart must re-form the interrupted range exactly (its log names it), and the table and both
 * views must equal ClickHouse's aggregates over the parquet file, with count() = uniqExact(id).
 * The `error` failpoints prove the retry path without a crash; a negative control sends no
 * deduplication token and must show the interrupted batch twice. A `stall` failpoint holds one insert
 * to show the next batch fills meanwhile, bounded, and commits stay in order. With every record held in open
 * batches, a SIGTERM drain writes and commits them all, and a rebalance (another member joins and
 * leaves) moves a partition away and back without loss or duplicates.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { assertFlightsMatchParquet } from '../flights-truth.ts'
import { FLIGHTS_PARQUET, ROOT, kafka, metricValue, removeDir, resetKafka, runReplay, sql, tempDir, waitFor } from '../helpers.ts'
import { expireMembers, failpointLines, groupCaughtUp, launch, logLines, resumedRanges, topicEnds, waitUp, type FailpointLine, type Launched } from './helpers.ts'

const N = 20_000
const CHUNK = 4_000
const pipelinesDir = path.join(ROOT, 'pipelines')
/** Size-driven batches of 2,500 rows (each spans two or more bad records); 8 batches in all. */
const ENV = { FLOWHOUSE_BATCH_MAX_ROWS: '2500', FLOWHOUSE_BATCH_FLUSH_MS: '3000', FLOWHOUSE_RELOAD_INTERVAL_MS: '0' }
const running: Launched[] = []
const dirs: string[] = []
const badIds: string[] = []

after(async () => {
  for (const d of running) await d.stop('SIGKILL')
  for (const dir of dirs) await removeDir(dir)
})

before(async () => {
  await resetKafka(['flights', 'flights.dlq'], [])
  const admin = kafka().admin()
  await admin.connect()
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'flights', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: String(7 * 24 * 3600 * 1000) }] }] })
  await admin.disconnect()
  const producer = kafka().producer()
  await producer.connect()
  for (let skip = 0; skip < N; skip += CHUNK) {
    const { code, output } = await runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--skip', String(skip), '--limit', String(CHUNK), '--batch', '500']).done
    assert.equal(code, 0, output)
    const bad = [0, 1].map((partition) => ({ partition, id: `bad-${skip}-${partition}` }))
    // `delay` must be an integer: each of these records is dead-lettered at validation.
    await producer.send({ topic: 'flights', acks: -1, messages: bad.map((b) => ({ partition: b.partition, value: JSON.stringify([{ id: b.id, date: '2001-01-01T00:00:00.000Z', delay: 'late', distance: 1, origin: 'AAA', destination: 'BBB' }]) })) })
    badIds.push(...bad.map((b) => b.id))
  }
  await producer.disconnect()
})

/** Counts of the flights table: rows, distinct ids, and what is lost or doubled against N. */
async function figures(url: string): Promise<{ rows: number; ids: number; loss: number; dup: number }> {
  const [r] = await sql<{ n: string; ids: string }>(url, 'SELECT count() AS n, uniqExact(id) AS ids FROM flights')
  const rows = Number(r!.n)
  const ids = Number(r!.ids)
  return { rows, ids, loss: N - ids, dup: rows - ids }
}

/** Dead-letter entries written since `since` (per-partition end offsets taken before the run). */
async function dlqSince(since: Map<number, number>): Promise<string[]> {
  const ends = await topicEnds('flights.dlq')
  const expected = [...ends].reduce((n, [p, end]) => n + end - (since.get(p) ?? 0), 0)
  if (expected === 0) return []
  const consumer = kafka().consumer({ groupId: `flowhouse-test-dlq-${process.pid}-${Date.now()}` })
  const ids: string[] = []
  await consumer.connect()
  await consumer.subscribe({ topic: 'flights.dlq', fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      if (Number(message.offset) >= (since.get(partition) ?? 0)) ids.push(String((JSON.parse(message.value!.toString()) as { record: { id: string } }).record.id))
    },
  })
  try {
    await waitFor(() => ids.length >= expected, { timeoutMs: 30_000, what: `${expected} dead-letter entries` })
  } finally {
    await consumer.disconnect()
  }
  return ids
}

interface Run {
  group: string
  dataDir: string
  dlqBefore: Map<number, number>
}

async function fresh(name: string): Promise<Run> {
  const dataDir = await tempDir(`fp-${name}`)
  dirs.push(dataDir)
  const prefix = `fp-${name}-${Date.now()}`
  return { group: `${prefix}.flights`, dataDir, dlqBefore: await topicEnds('flights.dlq').catch(() => new Map()) }
}

/** Runs a daemon armed with `failpoints` until it kills itself; returns the line the failpoint wrote. */
async function crash(run: Run, failpoints: string): Promise<FailpointLine> {
  const d = await launch({ pipelinesDir, dataDir: run.dataDir, env: { ...ENV, FLOWHOUSE_GROUP_PREFIX: run.group.replace(/\.flights$/, ''), FLOWHOUSE_FAILPOINTS: failpoints } })
  running.push(d)
  const end = await Promise.race([d.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 120_000).unref())])
  assert.notEqual(end, 'timeout', `the armed daemon did not die:\n${d.output().slice(-3000)}`)
  assert.deepEqual(end, { code: null, signal: 'SIGKILL' }, d.output().slice(-3000))
  const lines = failpointLines(d.output())
  assert.equal(lines.length, 1, d.output().slice(-3000))
  assert.ok((await expireMembers(run.group)) >= 1, 'the killed daemon was still a member of its group')
  return lines[0]!
}

/** Starts a daemon on the run's folder and group and waits until the group committed the topic's end. */
async function restart(run: Run, env: Record<string, string> = {}): Promise<Launched> {
  const d = await launch({ pipelinesDir, dataDir: run.dataDir, env: { ...ENV, FLOWHOUSE_GROUP_PREFIX: run.group.replace(/\.flights$/, ''), ...env } })
  running.push(d)
  await waitUp(d)
  await waitFor(() => groupCaughtUp(run.group, 'flights'), { timeoutMs: 120_000, what: `group ${run.group} to commit the end of the topic` })
  return d
}

const STEPS = ['delivery.after-pending-commit', 'delivery.after-insert', 'delivery.after-dlq', 'delivery.before-final-commit'] as const
/** Steps after which the batch's dead-letter entries were already produced (they are produced again). */
const AFTER_DLQ = new Set<string>(['delivery.after-dlq', 'delivery.before-final-commit'])

for (const step of STEPS) {
  test(`a daemon killed at ${step} re-forms the pending range on restart and ends with every flight exactly once in the table and the views`, { timeout: 300_000 }, async (t) => {
    const run = await fresh(step.replace('delivery.', ''))
    const hit = await crash(run, `${step}=exit@3`)
    assert.equal(hit.failpoint, step)
    const d = await restart(run)
    assert.ok(
      resumedRanges(d.output()).some((r) => r.partition === hit.partition && r.first === hit.first && r.last === hit.last),
      `the restart re-formed the interrupted range ${hit.partition}:${hit.first}-${hit.last}; it logged ${JSON.stringify(resumedRanges(d.output()))}`,
    )
    const f = await figures(d.url)
    t.diagnostic(`${step}: crashed batch ${hit.partition}:${hit.first}-${hit.last} (${hit.rows} rows); rows=${f.rows} loss=${f.loss} dup=${f.dup}`)
    assert.deepEqual(f, { rows: N, ids: N, loss: 0, dup: 0 })
    await assertFlightsMatchParquet(d.url, N)

    // Dead-letter entries are at least once: every bad record is there; a batch that had produced its
    // entries before the crash produces them again.
    const dlq = await dlqSince(run.dlqBefore)
    assert.deepEqual([...new Set(dlq)].sort(), [...badIds].sort(), 'every bad record is dead-lettered')
    if (AFTER_DLQ.has(step)) {
      assert.ok(Number(hit.dlq) > 0, 'the interrupted batch had dead-letter entries')
      assert.ok(dlq.length >= badIds.length + Number(hit.dlq), `the interrupted batch's ${hit.dlq} entries were produced again (${dlq.length} entries)`)
    }
    t.diagnostic(`${step}: dead-letter entries ${dlq.length} for ${badIds.length} bad records`)
    await d.stop()
  })
}

test('each delivery failpoint armed with error fails one flush, the partition seeks back and re-forms the range, and every flight is written exactly once', { timeout: 300_000 }, async (t) => {
  const run = await fresh('errors')
  const armed = STEPS.map((s, i) => `${s}=error@${i + 2}`).join(',')
  const d = await restart(run, { FLOWHOUSE_FAILPOINTS: armed })
  const hits = failpointLines(d.output())
  assert.deepEqual(hits.map((h) => h.failpoint).sort(), [...STEPS].sort(), 'each failpoint fired once')
  assert.equal(d.child.exitCode, null, 'no crash')
  const failed = logLines(d.output(), 'batch flush failed; seeking back')
  for (const h of hits) {
    assert.ok(
      failed.some((l) => l.partition === h.partition && l.first === h.first && l.last === h.last && String(l.error).includes(h.failpoint)),
      `${h.failpoint}: the flush of ${h.partition}:${h.first}-${h.last} failed and seeked back`,
    )
  }
  const f = await figures(d.url)
  t.diagnostic(`errors: rows=${f.rows} loss=${f.loss} dup=${f.dup}`)
  assert.deepEqual(f, { rows: N, ids: N, loss: 0, dup: 0 })
  await assertFlightsMatchParquet(d.url, N)
  await d.stop()
})

/** The committed offset and metadata of `partition` of the flights topic in `groupId`. */
async function committedOffset(groupId: string, partition: number): Promise<{ offset: number; metadata: string }> {
  const admin = kafka().admin()
  await admin.connect()
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: ['flights'] })
    const c = t?.partitions.find((p) => p.partition === partition)
    return { offset: Number(c?.offset ?? -1), metadata: c?.metadata ?? '' }
  } finally {
    await admin.disconnect()
  }
}

test('a slow insert does not stop its partition: the next batch fills meanwhile, one batch at most, commits stay in offset order, every flight once', { timeout: 300_000 }, async (t) => {
  const run = await fresh('stall')
  const d = await launch({ pipelinesDir, dataDir: run.dataDir, env: { ...ENV, FLOWHOUSE_GROUP_PREFIX: run.group.replace(/\.flights$/, ''), FLOWHOUSE_FAILPOINTS: 'delivery.after-insert=stall@1' } })
  running.push(d)
  await waitFor(() => failpointLines(d.output()).length === 1, { timeoutMs: 90_000, what: 'the first batch to stall after its insert' })
  const hit = failpointLines(d.output())[0]!
  const partition = Number(hit.partition)
  const labels = { pipeline: 'flights', partition: String(partition) }
  // Sampled while the stalled batch waits (STALL_MS, 5 s, from the failpoint line).
  const stalledUntil = Date.now() + 4_000
  let furthest = 0
  const commits = new Set<string>()
  while (Date.now() < stalledUntil) {
    furthest = Math.max(furthest, await metricValue(d.url, 'flowhouse_consumer_position_offset', labels))
    const c = await committedOffset(run.group, partition)
    commits.add(`${c.offset} ${c.metadata}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  t.diagnostic(`stalled ${partition}:${hit.first}-${hit.last}; position reached ${furthest}; commits seen ${[...commits].join(' | ')}`)
  assert.ok(furthest > Number(hit.last) + 1, `the next batch of partition ${partition} filled while ${hit.first}-${hit.last} was inserted (position ${furthest})`)
  // One batch of 2,500 rows: five messages of 500 records and the bad records between them.
  assert.ok(furthest <= Number(hit.last) + 1 + 10, `partition ${partition} took at most one batch more while the insert stalled (position ${furthest})`)
  assert.deepEqual([...commits], [`${hit.first} flowhouse:pending:${hit.first}-${hit.last}`], 'nothing after the stalled range was committed while it was delivered')
  await waitFor(() => groupCaughtUp(run.group, 'flights'), { timeoutMs: 120_000, what: `group ${run.group} to commit the end of the topic` })
  const f = await figures(d.url)
  assert.deepEqual(f, { rows: N, ids: N, loss: 0, dup: 0 })
  await assertFlightsMatchParquet(d.url, N)
  await d.stop()
})

test('negative control: without deduplication tokens the same crash after the insert writes the interrupted batch twice', { timeout: 300_000 }, async (t) => {
  const run = await fresh('no-dedup')
  const hit = await crash(run, 'delivery.after-insert=exit@3,delivery.no-dedup-token=on')
  const d = await restart(run, { FLOWHOUSE_FAILPOINTS: 'delivery.no-dedup-token=on' })
  assert.ok(resumedRanges(d.output()).some((r) => r.partition === hit.partition && r.first === hit.first && r.last === hit.last))
  const f = await figures(d.url)
  t.diagnostic(`no token: crashed batch ${hit.partition}:${hit.first}-${hit.last} (${hit.rows} rows); rows=${f.rows} loss=${f.loss} dup=${f.dup}`)
  assert.equal(f.loss, 0)
  assert.ok(f.dup >= Number(hit.rows) && Number(hit.rows) > 0, `the interrupted batch (${hit.rows} rows) is written twice: ${f.dup} duplicates`)
  await assert.rejects(assertFlightsMatchParquet(d.url, N), /rows in flights/, 'the exactly-once check fails without tokens')
  await d.stop()
})

/** Every record of the topic sits in open batches: nothing flushes by size or time. */
const HOLD = { FLOWHOUSE_BATCH_MAX_ROWS: '1000000', FLOWHOUSE_BATCH_FLUSH_MS: '600000' }

async function holdingEverything(run: Run): Promise<Launched> {
  const d = await launch({ pipelinesDir, dataDir: run.dataDir, env: { ...ENV, ...HOLD, FLOWHOUSE_GROUP_PREFIX: run.group.replace(/\.flights$/, '') } })
  running.push(d)
  await waitUp(d)
  const messages = [...(await topicEnds('flights')).values()].reduce((a, b) => a + b, 0)
  await waitFor(async () => (await metricValue(d.url, 'flowhouse_messages_consumed_total', { pipeline: 'flights' })) === messages, { timeoutMs: 60_000, what: `${messages} messages consumed` })
  assert.equal((await figures(d.url)).rows, 0, 'every record consumed is still in flight (none written)')
  return d
}

test('SIGTERM with every record in flight drains: the open batches are written and committed before the daemon exits, and a restart finds nothing pending', { timeout: 300_000 }, async (t) => {
  const run = await fresh('drain')
  const d = await holdingEverything(run)
  await d.stop('SIGTERM')
  assert.deepEqual(await d.exited, { code: 0, signal: null }, d.output().slice(-2000))
  assert.equal(await groupCaughtUp(run.group, 'flights'), true, 'the drain committed the end of every partition')
  const again = await restart(run)
  assert.deepEqual(resumedRanges(again.output()), [], 'nothing was left pending')
  const f = await figures(again.url)
  t.diagnostic(`drain: rows=${f.rows} loss=${f.loss} dup=${f.dup}`)
  assert.deepEqual(f, { rows: N, ids: N, loss: 0, dup: 0 })
  await assertFlightsMatchParquet(again.url, N)
  await again.stop()
})

test('a member joining and leaving the group while records are in flight moves a partition away and back, and every flight is written exactly once', { timeout: 300_000 }, async (t) => {
  const run = await fresh('rebalance')
  const d = await holdingEverything(run)
  // Another member of the same group takes a partition, holds it without consuming or committing, and leaves.
  const assigned: number[][] = []
  const other = kafka().consumer({ groupId: run.group, sessionTimeout: 10_000, heartbeatInterval: 1_000 })
  other.on(other.events.GROUP_JOIN, (e) => void assigned.push(e.payload.memberAssignment.flights ?? []))
  await other.connect()
  await other.subscribe({ topic: 'flights', fromBeginning: true })
  await other.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async ({ pause }) => void pause() })
  const joins = () => logLines(d.output(), 'joined consumer group').map((l) => l.partitions as number[])
  try {
    await waitFor(() => assigned.some((a) => a.length === 1) && joins().some((p) => p.length === 1), { timeoutMs: 60_000, what: 'the partitions split between the two members' })
  } finally {
    await other.disconnect()
  }
  await waitFor(() => joins().length >= 3 && joins().at(-1)!.length === 2, { timeoutMs: 60_000, what: 'the daemon to get both partitions back' })
  t.diagnostic(`rebalance: the daemon's assignments ${JSON.stringify(joins())}`)
  // The rejoin delivers both partitions again from the committed offsets: the drain below can only
  // commit the ends once every message is back in a batch (the position gauge at the end of each
  // partition, twice in a row with no message consumed in between).
  const ends = await topicEnds('flights')
  const atEnds = async () => {
    for (const [partition, end] of ends) {
      if ((await metricValue(d.url, 'flowhouse_consumer_position_offset', { pipeline: 'flights', partition: String(partition) })) !== end) return false
    }
    return true
  }
  let settled: number | undefined
  await waitFor(
    async () => {
      const consumed = await metricValue(d.url, 'flowhouse_messages_consumed_total', { pipeline: 'flights' })
      const before = settled
      settled = (await atEnds()) ? consumed : undefined
      return before !== undefined && before === settled
    },
    { timeoutMs: 60_000, intervalMs: 500, what: 'every message of both partitions back in a batch' },
  )
  await d.stop('SIGTERM')
  assert.equal(await groupCaughtUp(run.group, 'flights'), true)
  const again = await restart(run)
  const f = await figures(again.url)
  t.diagnostic(`rebalance: rows=${f.rows} loss=${f.loss} dup=${f.dup}`)
  assert.deepEqual(f, { rows: N, ids: N, loss: 0, dup: 0 })
  await assertFlightsMatchParquet(again.url, N)
  await again.stop()
})
