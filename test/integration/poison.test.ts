/**
 * Poison messages against the real broker and the embedded ClickHouse: each one ends in the
 * dead-letter queue with its exact errorType and source offset, in entries that fit the DLQ
 * topic's max.message.bytes, while the valid rows produced after it are written and /health
 * keeps answering. A partition that cannot make progress is reported by /ready and a gauge.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { kafka, metricValue, readTopic, removeDir, sql, startDaemon, tempDir, waitFor, type DaemonProcess } from './helpers.ts'

const tag = randomBytes(4).toString('hex')
const name = `poison_${tag}`
const stuck = `stuck_${tag}`
const wide = `wide_${tag}`
/** max.message.bytes of the poison pipeline's DLQ topic: far below the broker's 16 MiB. */
const DLQ_LIMIT = 1_048_576
let daemon: DaemonProcess
let dir: string

const moduleText = `
import { IngestPipeline, Key, t } from 'flowhouse'
const Row = t.Object({ id: Key(t.String()), n: t.Int32() })
export const poison = new IngestPipeline('${name}', { schema: Row, table: true, stream: { parallelism: 2 } })
export const stuck = new IngestPipeline('${stuck}', { schema: Row, table: true, stream: { parallelism: 1 } })
export const wide = new IngestPipeline('${wide}', { schema: Row, table: false, stream: { parallelism: 1 } })
`

/** Polls /health every 100 ms and keeps the slowest answer (a probe without an answer in 5 s counts as 5 s). */
function healthProbe(url: string): { stop(): Promise<{ maxMs: number; probes: number; failures: number; loopMaxMs: number }> } {
  let running = true
  let maxMs = 0
  let probes = 0
  let failures = 0
  const loop = (async () => {
    while (running) {
      const t0 = performance.now()
      try {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) })
        if (!res.ok) failures++
        await res.arrayBuffer()
      } catch {
        failures++
      }
      maxMs = Math.max(maxMs, performance.now() - t0)
      probes++
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      const own = (await (await fetch(`${url}/health`)).json()) as { eventLoopDelayMs: { maxMs: number } }
      return { maxMs: Math.round(maxMs), probes, failures, loopMaxMs: own.eventLoopDelayMs.maxMs }
    },
  }
}

before(async () => {
  dir = await tempDir('poison')
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(path.join(dir, 'pipelines', 'poison.ts'), moduleText)
  // DLQ topics made before the daemon (which keeps existing topics): one with a 1 MiB limit,
  // one too small for any entry, so its partition cannot commit.
  const admin = kafka().admin()
  await admin.connect()
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: `${name}.dlq`, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(DLQ_LIMIT) }] },
      { topic: `${stuck}.dlq`, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '200' }] },
    ],
  })
  await admin.disconnect()
  daemon = await startDaemon({
    pipelinesDir: path.join(dir, 'pipelines'),
    dataDir: path.join(dir, 'data'),
    env: { FLOWHOUSE_BATCH_FLUSH_MS: '300', FLOWHOUSE_METRICS_INTERVAL_MS: '500', FLOWHOUSE_STALL_SECONDS: '5' },
  })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dir) await removeDir(dir)
})

const rows = (from: number, count: number) => JSON.stringify(Array.from({ length: count }, (_, i) => ({ id: `ok${from + i}`, n: from + i })))

test('each poison message is dead-lettered with its exact errorType and offset in entries under the DLQ limit, and the rows after it are written within 60 s', { timeout: 300_000 }, async () => {
  const MB5 = 5 * 1024 * 1024
  const poison: Array<{ what: string; value: Buffer | null; errorType: string; index?: number; entries: number }> = [
    { what: '10,000 nested objects', value: Buffer.from('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)), errorType: 'max_depth_exceeded', entries: 1 },
    { what: '10,000 nested arrays', value: Buffer.from('['.repeat(10_000) + ']'.repeat(10_000)), errorType: 'max_depth_exceeded', index: 0, entries: 1 },
    { what: '100,000 tiny invalid records', value: Buffer.from(JSON.stringify(new Array(100_000).fill(1))), errorType: 'schema', entries: 100_000 },
    { what: '5 MB of control bytes', value: Buffer.alloc(MB5, 0x01), errorType: 'invalid_json', entries: 1 },
    { what: 'a 5 MB record', value: Buffer.from(JSON.stringify([{ id: 'big', n: 1, pad: 'x'.repeat(MB5) }])), errorType: 'record_too_large', index: 0, entries: 1 },
    { what: 'invalid UTF-8', value: Buffer.from([0x5b, 0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x5d]), errorType: 'invalid_utf8', entries: 1 },
    { what: 'a null value', value: null, errorType: 'null_value', entries: 1 },
    { what: 'an empty value', value: Buffer.alloc(0), errorType: 'empty_value', entries: 1 },
  ]
  assert.equal(poison[0]!.value!.length, 60_001)
  assert.equal(poison[1]!.value!.length, 20_000)
  const probe = healthProbe(daemon.url)
  const producer = kafka().producer()
  await producer.connect()
  // Partition 0: poison at even offsets, 10 valid rows after each at odd offsets; partition 1: valid rows.
  const started = Date.now()
  for (const [i, p] of poison.entries()) {
    await producer.send({ topic: name, acks: -1, messages: [{ partition: 0, value: p.value }] })
    await producer.send({ topic: name, acks: -1, messages: [{ partition: 0, value: rows(i * 10, 10) }, { partition: 1, value: rows(1_000 + i * 10, 10) }] })
  }
  await producer.disconnect()

  const written = await waitFor(async () => {
    const [r] = await sql<{ n: string }>(daemon.url, `SELECT uniqExact(id) AS n FROM ${name}`)
    return Number(r!.n) === 160 ? Date.now() - started : undefined
  }, { timeoutMs: 60_000, intervalMs: 500, what: 'the 160 valid rows after the poison' })
  const health = await probe.stop()

  const expected = poison.reduce((n, p) => n + p.entries, 0)
  const dlq = await readTopic(`${name}.dlq`, expected, 90_000)
  assert.equal(dlq.length, expected)
  const largest = Math.max(...dlq.map((m) => Buffer.byteLength(m.value) + Buffer.byteLength(m.key ?? '')))
  assert.ok(largest < DLQ_LIMIT, `largest DLQ entry ${largest} bytes`)
  const entries = dlq.map((m) => JSON.parse(m.value) as Record<string, unknown>)
  for (const [i, p] of poison.entries()) {
    const at = entries.filter((e) => e.offset === String(2 * i))
    assert.equal(at.length, p.entries, p.what)
    assert.deepEqual([...new Set(at.map((e) => `${e.topic}:${e.partition}:${e.errorType}`))], [`${name}:0:${p.errorType}`], p.what)
    if (p.entries === 1) assert.equal(at[0]!.index, p.index, p.what)
  }
  const control = entries.find((e) => e.errorType === 'invalid_json')!
  assert.deepEqual([control.truncated, control.rawBytes, (control.raw as string).length], [true, MB5, 64 * 1024])
  assert.match(String(control.rawSha256), /^[0-9a-f]{64}$/)
  const big = entries.find((e) => e.errorType === 'record_too_large')!
  assert.deepEqual([big.truncated, big.rawBytes, big.stage], [true, MB5 + '{"id":"big","n":1,"pad":""}'.length, 'decode'])
  const tiny = entries.filter((e) => e.errorType === 'schema')
  assert.deepEqual([tiny[0]!.index, tiny.at(-1)!.index, tiny[0]!.record], [0, 99_999, 1])

  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: name }), expected)
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_written_total', { pipeline: name }), 160)
  assert.equal(health.failures, 0)
  assert.ok(health.maxMs < 1_000, `slowest /health answer ${health.maxMs} ms over ${health.probes} probes`)
  console.log(`poison: valid rows written ${written} ms after the first produce; ${expected} DLQ entries, largest ${largest} bytes; /health slowest ${health.maxMs} ms over ${health.probes} probes, daemon event-loop delay max ${health.loopMaxMs} ms`)
})

test('a partition that cannot commit is reported stalled by /ready with its oldest pending offset and by the gauge, and recovers when it can', { timeout: 120_000 }, async () => {
  const producer = kafka().producer()
  await producer.connect()
  await producer.send({ topic: stuck, acks: -1, messages: [{ value: rows(0, 3) }] })
  await waitFor(async () => Number((await sql<{ n: string }>(daemon.url, `SELECT count() AS n FROM ${stuck}`))[0]!.n) === 3, { what: 'offset 0 written' })
  await producer.send({ topic: stuck, acks: -1, messages: [{ value: 'not json' }, { value: rows(3, 3) }] })
  await producer.disconnect()
  // Offset 0 commits; offset 1's entry fits no request to a 200-byte DLQ topic, so the batch from 1 cannot commit.
  const ready = await waitFor(async () => {
    const res = await fetch(`${daemon.url}/ready`)
    const body = (await res.json()) as { ready: boolean; checks: { partitions: { ok: boolean; detail: { stalled?: Array<Record<string, unknown>> } } } }
    return body.checks.partitions.detail.stalled?.some((s) => s.pipeline === stuck) ? { status: res.status, body } : undefined
  }, { timeoutMs: 60_000, intervalMs: 500, what: `/ready to report ${stuck} stalled` })
  assert.equal(ready.status, 503)
  assert.equal(ready.body.checks.partitions.ok, false)
  const stalled = ready.body.checks.partitions.detail.stalled!.find((s) => s.pipeline === stuck)!
  assert.deepEqual([stalled.topic, stalled.partition, stalled.oldestPendingOffset, stalled.lag], [stuck, 0, 1, 2])
  assert.equal(await metricValue(daemon.url, 'flowhouse_partition_stalled', { pipeline: stuck, partition: '0' }), 1)
  assert.equal(await metricValue(daemon.url, 'flowhouse_partition_stalled', { pipeline: name, partition: '0' }), 0)
  assert.match(daemon.output(), new RegExp(`"pipeline":"${stuck}".*consumption is stalled`))

  // Give the DLQ topic a usable limit: the next retry re-reads it and the partition moves.
  const admin = kafka().admin()
  await admin.connect()
  await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: `${stuck}.dlq`, configEntries: [{ name: 'max.message.bytes', value: '1048576' }] }] })
  await admin.disconnect()
  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_partition_stalled', { pipeline: stuck, partition: '0' })) === 0, { timeoutMs: 60_000, what: 'the stall to clear' })
  const [r] = await sql<{ n: string }>(daemon.url, `SELECT count() AS n FROM ${stuck}`)
  assert.equal(Number(r!.n), 6)
  const [entry] = (await readTopic(`${stuck}.dlq`, 1)).map((m) => JSON.parse(m.value) as Record<string, unknown>)
  assert.deepEqual([entry!.offset, entry!.errorType], ['1', 'invalid_json'])
})

test('POST /ingest answers 400 naming the depth bound for a deeply nested body, and /health answers within 1 s under eight concurrent 16 MB bodies', { timeout: 300_000 }, async () => {
  const post = (body: string | Buffer) => fetch(`${daemon.url}/ingest/${wide}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const deepArrays = await post('['.repeat(10_000) + ']'.repeat(10_000))
  assert.equal(deepArrays.status, 400)
  assert.deepEqual(await deepArrays.json(), { error: 'record 0 nests deeper than FLOWHOUSE_MAX_DEPTH=64 levels; nothing was accepted', code: 'max_depth_exceeded', errors: [] })
  const deepObjects = await post('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000))
  assert.equal(deepObjects.status, 400)
  assert.deepEqual(await deepObjects.json(), { error: 'body nests deeper than FLOWHOUSE_MAX_DEPTH=64 levels', code: 'max_depth_exceeded', errors: [] })

  // 1,000,000 small records (16,000,001 bytes); the last one is invalid, so each body is parsed
  // and validated whole and answered 400 with nothing produced.
  const records = Array.from({ length: 999_999 }, (_, i) => `{"id":"","n":${i % 10}}`)
  const body = Buffer.from(`[${records.join(',')},{"id":"","n":"x"}]`)
  assert.ok(body.length <= 16 * 1024 * 1024, `${body.length}`)
  const probe = healthProbe(daemon.url)
  const t0 = performance.now()
  const answers = await Promise.all(Array.from({ length: 8 }, () => post(body).then(async (r) => ({ status: r.status, body: (await r.json()) as { error: string; errors: Array<{ index: number }> } }))))
  const elapsed = Math.round(performance.now() - t0)
  const health = await probe.stop()
  for (const a of answers) {
    assert.equal(a.status, 400)
    assert.equal(a.body.error, '1 of 1000000 records are invalid; nothing was accepted')
    assert.deepEqual(a.body.errors.map((e) => e.index), [999_999])
  }
  assert.equal(health.failures, 0)
  assert.ok(health.maxMs < 1_000, `slowest /health answer ${health.maxMs} ms over ${health.probes} probes`)
  console.log(`ingest: 8 concurrent 16 MB bodies answered in ${elapsed} ms; /health slowest ${health.maxMs} ms over ${health.probes} probes, daemon event-loop delay max ${health.loopMaxMs} ms`)

  const ok = await post(`[${records.join(',')}]`)
  assert.deepEqual(await ok.json(), { pipeline: wide, accepted: 999_999 })
})
