/**
 * `npm run bench:registry`: consumption of the same BENCH_ROWS real flights (default 100,000)
 * from a JSON_ARRAY topic (messages of 1,000 records) and from an Avro schema registry topic (one
 * Confluent wire-format message per row, decoded through the project's registry, Apicurio), each
 * by a daemon of its own on a pipeline with the flights schema and no transform (parallelism 2).
 * Prints rows/s (daemon start to the last row in ClickHouse) for each. A figure, never a failure.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { FLIGHTS_PARQUET, removeDir, resetKafka, runReplay, startDaemon, tempDir, waitFor, REGISTRY } from '../test/integration/helpers.ts'
import { count } from './proc.ts'

const ROWS = Number(process.env.BENCH_ROWS || 100_000)
const suffix = randomBytes(4).toString('hex')
const FLIGHT = "t.Object({ id: Key(t.String()), date: t.DateTime(), delay: t.Int32(), distance: t.UInt32(), origin: t.String(), destination: t.String() })"
const runs = [
  { label: 'JSON_ARRAY', format: 'json', name: `bench_json_${suffix}`, option: '' },
  { label: 'Avro through the registry', format: 'avro', name: `bench_avro_${suffix}`, option: `, format: { schemaRegistry: { url: '${REGISTRY}', subject: 'bench_avro_${suffix}-value' } }` },
]
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

const dir = await tempDir('bench-registry')
try {
  const figures: string[] = []
  for (const run of runs) {
    const pipelinesDir = path.join(dir, run.format)
    await mkdir(pipelinesDir)
    await writeFile(path.join(pipelinesDir, 'flights.ts'), `import { IngestPipeline, Key, t } from 'flowhouse'\nexport const flights = new IngestPipeline('${run.name}', { schema: ${FLIGHT}, stream: { parallelism: 2 }${run.option} })\n`)
    // The daemon creates the topic; it is stopped before anything is produced.
    const creator = await startDaemon({ pipelinesDir, dataDir: path.join(dir, `${run.format}-create`) })
    await creator.kill('SIGTERM')
    const { code, output } = await runReplay([FLIGHTS_PARQUET, '--pipeline', run.name, '--limit', String(ROWS), '--format', run.format, '--pipelines', pipelinesDir]).done
    if (code !== 0) throw new Error(output)
    await resetKafka([], [`flowhouse.${run.name}`])
    const started = performance.now()
    const daemon = await startDaemon({ pipelinesDir, dataDir: path.join(dir, `${run.format}-run`) })
    try {
      await waitFor(async () => (await count(daemon.url, run.name)) >= ROWS, { timeoutMs: 3_600_000, intervalMs: 100, what: `all rows of ${run.name}` })
      figures.push(`${run.label} ${fmt(ROWS / ((performance.now() - started) / 1000))} rows/s`)
    } finally {
      await daemon.kill('SIGTERM')
    }
    await resetKafka([run.name, `${run.name}.dlq`], [`flowhouse.${run.name}`])
  }
  console.log(`${fmt(ROWS)} flights consumed: ${figures.join(', ')}`)
} finally {
  await removeDir(dir)
}
