/**
 * `npm run bench`: end-to-end and parallelism benchmarks. Prints figures as ratios against a
 * reference measured in the same run; never fails on timings.
 *
 *   1. End to end: all 3,000,000 flights (or BENCH_ROWS) replayed through Kafka into the daemon
 *      (embedded ClickHouse, the flights pipeline with its two views). Rows/s from the replay's
 *      start to the last row in ClickHouse, and the daemon's peak RSS.
 *      Reference: a raw ClickHouse insert of the same rows with the same table and views
 *      (INSERT ... SELECT from the parquet file inside the same engine).
 *   2. Parallelism: a CPU-heavy transform over BENCH_CPU_ROWS flights with parallelism 1 and 2.
 */
import { readFile, mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { FLIGHTS_PARQUET, ROOT, removeDir, resetKafka, runReplay, startDaemon, tempDir, truth, waitFor, type DaemonProcess } from '../test/integration/helpers.ts'
import { count, daemonCpuSeconds, peakRssMb } from './proc.ts'

const ROWS = Number(process.env.BENCH_ROWS || 3_000_000)
const CPU_ROWS = Number(process.env.BENCH_CPU_ROWS || 200_000)

async function endToEnd(pipelinesDir = path.join(ROOT, 'pipelines')): Promise<{ rowsPerSecond: number; seconds: number; peakRss: number; cpuSeconds: number }> {
  await resetKafka(['flights', 'flights.dlq'], ['flowhouse.flights'])
  const dataDir = await tempDir('bench-e2e')
  const daemon = await startDaemon({ pipelinesDir, dataDir })
  try {
    const { modules } = (await (await fetch(`${daemon.url}/api/pipelines`)).json()) as { modules: Array<{ file: string; error: string | null }> }
    const broken = modules.find((m) => m.error)
    if (broken) throw new Error(`${broken.file} did not load: ${broken.error}`)
    const started = performance.now()
    const replay = runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--limit', String(ROWS)])
    await waitFor(async () => (await count(daemon.url, 'flights')) >= ROWS, { timeoutMs: 3_600_000, intervalMs: 200, what: 'all rows' })
    const seconds = (performance.now() - started) / 1000
    const { code, output } = await replay.done
    if (code !== 0) throw new Error(output)
    return { rowsPerSecond: ROWS / seconds, seconds, peakRss: await peakRssMb(daemon.child.pid!), cpuSeconds: await daemonCpuSeconds(daemon.child.pid!) }
  } finally {
    await daemon.kill('SIGTERM')
    await removeDir(dataDir)
  }
}

/** The same table and views, filled by one INSERT ... SELECT from the parquet file in an embedded engine. */
async function rawInsert(): Promise<{ rowsPerSecond: number; seconds: number }> {
  const dataDir = await tempDir('bench-raw')
  const { createClient } = await import('@clickhouse/client')
  const { createChdbConnection } = await import('chdb/connection')
  const client = createClient({ connection: createChdbConnection({ path: dataDir }) } as never)
  const run = (query: string) => client.command({ query })
  try {
    await run(`CREATE TABLE flights (id String, date DateTime64(3, 'UTC'), delay Int32, distance UInt32, origin String, destination String, delayed Bool, route String) ENGINE = MergeTree ORDER BY (id)`)
    await run(`CREATE TABLE flights_daily_delays (origin String, day Date, flights UInt64, total_delay Int64, delayed_flights UInt64) ENGINE = SummingMergeTree ORDER BY (origin, day)`)
    await run(`CREATE MATERIALIZED VIEW flights_daily_delays_mv TO flights_daily_delays AS SELECT origin, toDate(date) AS day, count() AS flights, sum(delay) AS total_delay, countIf(delayed) AS delayed_flights FROM flights GROUP BY origin, day`)
    await run(`CREATE TABLE flights_route_stats (route String, flights AggregateFunction(count), avg_distance AggregateFunction(avg, UInt32), max_delay AggregateFunction(max, Int32)) ENGINE = AggregatingMergeTree ORDER BY (route)`)
    await run(`CREATE MATERIALIZED VIEW flights_route_stats_mv TO flights_route_stats AS SELECT route, countState() AS flights, avgState(distance) AS avg_distance, maxState(delay) AS max_delay FROM flights GROUP BY route`)
    const started = performance.now()
    await run(`INSERT INTO flights SELECT toString(rowNumberInAllBlocks()), date, delay, distance, origin, destination, delay > 15, concat(origin, '-', destination)
               FROM file('${FLIGHTS_PARQUET}', Parquet) LIMIT ${ROWS}`)
    const seconds = (performance.now() - started) / 1000
    return { rowsPerSecond: ROWS / seconds, seconds }
  } finally {
    await client.close()
    await removeDir(dataDir)
  }
}

/**
 * The flights pipeline with a realistic set of constraints: a validation of the airport codes,
 * a rate limit far above the replay's pace (it never throttles), and resource limits.
 */
async function constrainedFlights(): Promise<string> {
  const dir = await tempDir('bench-constraints')
  await mkdir(path.join(dir, 'pipelines'))
  const source = await readFile(path.join(ROOT, 'pipelines/flights.ts'), 'utf8')
  const constraints = `
export const benchConstraints = [
  new Constraint({ name: 'airport_codes', type: 'validation', priority: 10, config: { rules: {
    origin: { required: true, pattern: '^[A-Z0-9]{3}$' },
    destination: { required: true, pattern: '^[A-Z0-9]{3}$' },
  } } }),
  new Constraint({ name: 'per_origin_rate', type: 'rate', priority: 5, config: { max_events_per_second: 10_000_000, group_by: ['origin'] } }),
  new Constraint({ name: 'resources', type: 'resource', config: { max_memory_mb: 16_000, max_memory_per_event_kb: 4 } }),
]
`
  // Replacer functions: the constraints text holds `$'`, which a replacement string would expand.
  const module = source
    .replace('import { IngestPipeline,', () => 'import { Constraint, IngestPipeline,')
    .replace('export const flightsPipeline', () => `${constraints}\nexport const flightsPipeline`)
    .replace('deadLetterQueue: true,', () => 'deadLetterQueue: true,\n  constraints: benchConstraints,')
  if (!module.includes('constraints: benchConstraints')) throw new Error('could not add constraints to pipelines/flights.ts')
  await writeFile(path.join(dir, 'pipelines', 'flights.ts'), module)
  return path.join(dir, 'pipelines')
}

const cpuModule = (name: string, parallelism: number) => `
import { IngestPipeline, Key, OlapTable, t } from 'flowhouse'
import { createHash } from 'node:crypto'

const Flight = t.Object({ id: Key(t.String()), delay: t.Int32(), distance: t.UInt32(), origin: t.String(), destination: t.String() })
export const p = new IngestPipeline('${name}', { schema: Flight, table: false, stream: { parallelism: ${parallelism} } })
export const out = new OlapTable('${name}_out', t.Object({ id: Key(t.String()), digest: t.String() }), { orderByFields: ['id'] })

// CPU-heavy on purpose: 200 rounds of SHA-256 per record.
p.stream.addTransform(out, (f) => {
  let digest = f.id + f.origin + f.destination
  for (let i = 0; i < 200; i++) digest = createHash('sha256').update(digest).digest('hex')
  return [{ id: f.id, digest }]
})
`

async function cpuRun(parallelism: number): Promise<number> {
  const name = `cpu_p${parallelism}`
  await resetKafka([name, `${name}.dlq`], [`flowhouse.${name}`])
  const dir = await tempDir(`bench-${name}`)
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(path.join(dir, 'pipelines', `${name}.ts`), cpuModule(name, parallelism))
  let daemon: DaemonProcess | undefined
  try {
    // Fill the topic first, then start the daemon: the measurement is consumption only.
    daemon = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data') })
    await daemon.kill('SIGTERM')
    const { code, output } = await runReplay([FLIGHTS_PARQUET, '--pipeline', name, '--limit', String(CPU_ROWS)]).done
    if (code !== 0) throw new Error(output)
    const started = performance.now()
    daemon = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data') })
    await waitFor(async () => (await count(daemon!.url, `${name}_out`)) >= CPU_ROWS, { timeoutMs: 3_600_000, intervalMs: 200, what: 'cpu rows' })
    return CPU_ROWS / ((performance.now() - started) / 1000)
  } finally {
    await daemon?.kill('SIGTERM')
    await removeDir(dir)
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

const [truthRows] = await truth<{ n: number }>(`SELECT count() AS n FROM file('${FLIGHTS_PARQUET}', Parquet)`)
console.log(`flights in the parquet file: ${fmt(truthRows!.n)}; benchmarking ${fmt(ROWS)}`)

const raw = await rawInsert()
console.log(`raw ClickHouse insert (INSERT ... SELECT, same table and views): ${fmt(raw.rowsPerSecond)} rows/s (${raw.seconds.toFixed(1)} s)`)
const e2e = await endToEnd()
console.log(`flowhouse end to end (replay → Kafka → daemon → ClickHouse + views): ${fmt(e2e.rowsPerSecond)} rows/s (${e2e.seconds.toFixed(1)} s), daemon CPU ${e2e.cpuSeconds.toFixed(1)} s (all threads), daemon peak RSS ${e2e.peakRss.toFixed(0)} MiB`)
console.log(`ratio end-to-end / raw insert: ${(e2e.rowsPerSecond / raw.rowsPerSecond).toFixed(3)}`)

const constrainedDir = await constrainedFlights()
const withConstraints = await endToEnd(constrainedDir)
await removeDir(path.dirname(constrainedDir))
console.log(`flowhouse end to end with constraints (validation of airport codes, a per-origin rate limit that never throttles, resource limits): ${fmt(withConstraints.rowsPerSecond)} rows/s (${withConstraints.seconds.toFixed(1)} s), daemon CPU ${withConstraints.cpuSeconds.toFixed(1)} s, daemon peak RSS ${withConstraints.peakRss.toFixed(0)} MiB`)
console.log(`ratio with constraints / without: ${(withConstraints.rowsPerSecond / e2e.rowsPerSecond).toFixed(3)} (goal ≥ 0.85)`)

const p1 = await cpuRun(1)
const p2 = await cpuRun(2)
console.log(`CPU-heavy transform, ${fmt(CPU_ROWS)} flights: parallelism 1 ${fmt(p1)} rows/s, parallelism 2 ${fmt(p2)} rows/s, ratio ${(p2 / p1).toFixed(2)} (goal ≥ 1.5 on 2 cores)`)
