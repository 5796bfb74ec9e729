/**
 * Real flights replayed through the real schema registry (Apicurio, the project's services) into
 * registry pipelines, once per encoding: `flowhouse replay --format avro|json-schema|protobuf`
 * registers the schema derived from the pipeline's TypeBox schema and sends one Confluent
 * wire-format message per row; the daemon decodes them through the registry. Each table must
 * equal ClickHouse's own aggregate over the same rows of the parquet file (independent ground truth).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { FLIGHTS_PARQUET, flightsSource, metricValue, removeDir, runReplay, sql, startDaemon, tempDir, truth, waitFor, type DaemonProcess, REGISTRY } from '../helpers.ts'

const N = 20_000
const suffix = randomBytes(4).toString('hex')
const FORMATS = ['avro', 'json-schema', 'protobuf'] as const
const nameOf = (format: string) => `flights_${format.replace('-', '_')}_${suffix}`
let daemon: DaemonProcess
let dir: string

before(async () => {
  dir = await tempDir('registry-replay')
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(
    path.join(dir, 'pipelines', 'flights.ts'),
    `import { IngestPipeline, Key, t } from 'flowhouse'
const Flight = t.Object({
  id: Key(t.String()),
  date: t.DateTime(),
  delay: t.Int32(),
  distance: t.UInt32(),
  origin: t.String({ pattern: '^[A-Z0-9]{3}$' }),
  destination: t.String({ pattern: '^[A-Z0-9]{3}$' }),
})
${FORMATS.map((format) => `export const ${nameOf(format)} = new IngestPipeline('${nameOf(format)}', { schema: Flight, stream: { parallelism: 2 }, format: { schemaRegistry: { url: '${REGISTRY}', subject: '${nameOf(format)}-value' } } })`).join('\n')}
`,
  )
  daemon = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data'), env: { FLOWHOUSE_BATCH_FLUSH_MS: '500' } })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dir) await removeDir(dir)
})

for (const format of FORMATS) {
  const name = nameOf(format)
  test(`${N.toLocaleString('en')} flights replayed as ${format} through the registry equal the per-origin aggregate over the parquet file`, { timeout: 300_000 }, async () => {
    const started = performance.now()
    const { code, output } = await runReplay([FLIGHTS_PARQUET, '--pipeline', name, '--limit', String(N), '--format', format, '--pipelines', path.join(dir, 'pipelines')]).done
    assert.equal(code, 0, output)
    await waitFor(async () => Number((await sql<{ n: string }>(daemon.url, `SELECT count() AS n FROM ${name}`))[0]!.n) === N, { timeoutMs: 240_000, what: `${N} rows in ${name}` })
    const seconds = (performance.now() - started) / 1000
    console.log(`${N} ${format} flights replayed and written in ${seconds.toFixed(1)} s (${Math.round(N / seconds)} rows/s end to end)`)

    const query = (source: string) => `SELECT origin, count() AS flights, uniqExact(id) AS ids, sum(delay) AS total_delay, sum(distance) AS total_distance,
      toString(min(toDateTime64(date, 3, 'UTC'))) AS first, toString(max(toDateTime64(date, 3, 'UTC'))) AS last, uniqExact(destination) AS destinations
      FROM ${source} GROUP BY origin ORDER BY origin`
    type Row = { origin: string; flights: string | number; ids: string | number; total_delay: string | number; total_distance: string | number; first: string; last: string; destinations: string | number }
    const shape = (rows: Row[]) => rows.map((r) => [r.origin, Number(r.flights), Number(r.ids), Number(r.total_delay), Number(r.total_distance), r.first, r.last, Number(r.destinations)])
    const got = await sql<Row>(daemon.url, query(name))
    const expected = await truth<Row>(query(flightsSource(N)))
    assert.ok(expected.length > 50, 'ground truth has many origins')
    assert.deepEqual(shape(got), shape(expected), 'per-origin aggregate of the table equals the one over the parquet file')

    assert.equal(await metricValue(daemon.url, 'flowhouse_records_consumed_total', { pipeline: name }), N)
    assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: name }), 0)
  })
}
