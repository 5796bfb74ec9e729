/**
 * Row isolation in a big batch: 20,000 records in one partition batch, seven of which ClickHouse
 * cannot store (a lone UTF-16 surrogate, code 25: valid JSON and a valid string, so only the insert
 * refuses them), two of them adjacent and two at the batch's ends. The insert splits down to those
 * rows: each is dead-lettered at stage `insert` with ClickHouse's error, every other row is written
 * once, and the totals match the input the test computed itself.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, test } from 'node:test'
import { kafka, metricValue, readTopic, removeDir, resetKafka, sql, startDaemon, tempDir, waitFor, type DaemonProcess } from '../helpers.ts'

const NAME = `iso_${randomBytes(3).toString('hex')}`
const TOTAL = 20_000
const BAD = [0, 3, 777, 778, 5_000, 12_345, TOTAL - 1]
let daemon: DaemonProcess | undefined
let dir: string | undefined

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dir) await removeDir(dir)
  await resetKafka([NAME, `${NAME}.dlq`], [`flowhouse.${NAME}`]).catch(() => undefined)
})

test('several rows ClickHouse refuses in a 20,000-row batch are dead-lettered one by one at stage insert and every other row is written once', { timeout: 180_000 }, async () => {
  dir = await tempDir('row-isolation')
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(
    path.join(dir, 'pipelines', 'notes.ts'),
    `import { IngestPipeline, Key, t } from 'flowhouse'
export const notes = new IngestPipeline('${NAME}', { schema: t.Object({ id: Key(t.String()), n: t.Int32(), note: t.String() }), table: { orderByFields: ['id'] }, stream: { parallelism: 1 } })
`,
  )
  // One batch: more rows than the batch holds never arrive, and the flush interval outlasts the consumption.
  daemon = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data'), env: { FLOWHOUSE_BATCH_MAX_ROWS: String(TOTAL), FLOWHOUSE_BATCH_FLUSH_MS: '30000' } })
  const bad = new Set(BAD)
  const records = Array.from({ length: TOTAL }, (_, i) => ({ id: `r${i}`, n: i, note: bad.has(i) ? '\ud800' : `row ${i}` }))
  const producer = kafka().producer()
  await producer.connect()
  const messages = []
  for (let i = 0; i < TOTAL; i += 500) messages.push({ value: JSON.stringify(records.slice(i, i + 500)) })
  await producer.send({ topic: NAME, acks: -1, messages })
  await producer.disconnect()

  await waitFor(async () => (await metricValue(daemon!.url, 'flowhouse_records_dead_lettered_total', { pipeline: NAME, stage: 'insert' })) === BAD.length, { timeoutMs: 120_000, what: `${BAD.length} rows dead-lettered at insert` })
  assert.equal(await metricValue(daemon.url, 'flowhouse_batches_flushed_total', { pipeline: NAME }), 1, 'one batch')
  const good = records.filter((r) => !bad.has(r.n))
  const [stored] = await sql<{ c: string; ids: string; total: string }>(daemon.url, `SELECT count() AS c, uniqExact(id) AS ids, sum(n) AS total FROM ${NAME}`)
  assert.deepEqual([Number(stored!.c), Number(stored!.ids), Number(stored!.total)], [good.length, good.length, good.reduce((a, r) => a + r.n, 0)])
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_written_total', { pipeline: NAME, table: NAME }), good.length)

  const dlq = (await readTopic(`${NAME}.dlq`, BAD.length)).map((m) => JSON.parse(m.value) as { stage: string; errorType: string; reason: string; record: { id: string } })
  assert.equal(dlq.length, BAD.length)
  assert.deepEqual(dlq.map((e) => e.record.id).sort(), BAD.map((i) => `r${i}`).sort())
  for (const e of dlq) {
    assert.equal(e.stage, 'insert')
    assert.match(e.errorType, /^clickhouse_/)
    assert.match(e.reason, new RegExp(`^ClickHouse refused the row for "${NAME}": `))
  }
})
