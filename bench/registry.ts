/**
 * The registry part of the benchmark: consumption of the same `rows` real flights from a
 * JSON_ARRAY topic (messages of 1,000 records) and from an Avro schema registry topic (one
 * Confluent wire-format message per row, decoded through the project's registry), each by a daemon
 * of its own on a pipeline with the flights schema and no transform (parallelism 2). Each run is
 * checked against the parquet file: the row count, distinct ids and the sum of delays must equal
 * ClickHouse's own aggregate over the same rows.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { FLIGHTS_PARQUET, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, truth, waitFor, REGISTRY } from '../test/integration/helpers.ts'
import { count, treeFigures } from './proc.ts'

const FLIGHT = "t.Object({ id: Key(t.String()), date: t.DateTime(), delay: t.Int32(), distance: t.UInt32(), origin: t.String(), destination: t.String() })"

/** One format's figures: rows/s from daemon start to the last row in ClickHouse, CPU seconds of the daemon's process tree, peak RSS in MiB. */
export interface FormatFigures {
  label: string
  rowsPerSecond: number
  cpuSeconds: number
  peakRssMb: number
}

/**
 * Replays the first `rows` flights into a JSON_ARRAY topic and into an Avro registry topic, then
 * times a fresh daemon reading each from the beginning. With `profileDir`, each reading daemon
 * runs with `--cpu-prof` into `<profileDir>/<format>` (one profile per thread).
 * @throws Error when a replay fails or a table's contents differ from the parquet aggregate.
 */
export async function registryComparison(rows: number, profileDir?: string): Promise<FormatFigures[]> {
  const suffix = randomBytes(4).toString('hex')
  const runs = [
    { label: 'JSON_ARRAY', format: 'json', name: `bench_json_${suffix}`, option: '' },
    { label: 'Avro through the registry', format: 'avro', name: `bench_avro_${suffix}`, option: `, format: { schemaRegistry: { url: '${REGISTRY}', subject: 'bench_avro_${suffix}-value' } }` },
  ]
  const aggregate = (from: string) => `SELECT count() AS n, uniqExact(id) AS ids, sum(delay) AS delay FROM ${from}`
  const numbers = (row: Record<string, unknown> | undefined) => JSON.stringify(Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)])))
  const expected = numbers((await truth(aggregate(`(SELECT toString(rowNumberInAllBlocks()) AS id, delay FROM file('${FLIGHTS_PARQUET}', Parquet) LIMIT ${rows} SETTINGS max_threads = 1, input_format_parquet_preserve_order = 1)`)))[0])
  const dir = await tempDir('bench-registry')
  const figures: FormatFigures[] = []
  try {
    for (const run of runs) {
      const pipelinesDir = path.join(dir, run.format)
      await mkdir(pipelinesDir)
      await writeFile(path.join(pipelinesDir, 'flights.ts'), `import { IngestPipeline, Key, t } from 'flowhouse'\nexport const flights = new IngestPipeline('${run.name}', { schema: ${FLIGHT}, stream: { parallelism: 2 }${run.option} })\n`)
      // The daemon creates the topic; it is stopped before anything is produced.
      const creator = await startDaemon({ pipelinesDir, dataDir: path.join(dir, `${run.format}-create`) })
      await creator.kill('SIGTERM')
      const { code, output } = await runReplay([FLIGHTS_PARQUET, '--pipeline', run.name, '--limit', String(rows), '--format', run.format, '--pipelines', pipelinesDir]).done
      if (code !== 0) throw new Error(output)
      await resetKafka([], [`flowhouse.${run.name}`])
      const started = performance.now()
      const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, run.format)}`] : []
      const daemon = await startDaemon({ pipelinesDir, dataDir: path.join(dir, `${run.format}-run`), nodeArgs })
      try {
        await waitFor(async () => (await count(daemon.url, run.name)) >= rows, { timeoutMs: 3_600_000, intervalMs: 100, what: `all rows of ${run.name}` })
        const seconds = (performance.now() - started) / 1000
        const tree = await treeFigures(daemon.child.pid!)
        const got = numbers((await sql(daemon.url, aggregate(run.name)))[0])
        if (got !== expected) throw new Error(`${run.label}: table ${got} differs from the parquet aggregate ${expected}`)
        figures.push({ label: run.label, rowsPerSecond: rows / seconds, cpuSeconds: tree.cpuSeconds, peakRssMb: tree.peakRssMb })
      } finally {
        await daemon.kill('SIGTERM')
      }
      await resetKafka([run.name, `${run.name}.dlq`], [`flowhouse.${run.name}`])
    }
  } finally {
    await removeDir(dir)
  }
  return figures
}
