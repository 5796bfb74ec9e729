/**
 * `npm run bench`: flowhouse side by side with ClickHouse's own Kafka table engine on the same
 * topic, in one run. Prints figures as ratios against references measured in the same run (the
 * absolute figures depend on the machine and its load; the ratios are the result).
 *
 *   0. Fill: one fresh topic (2 partitions) with the first BENCH_ROWS flights of the parquet file
 *      (default 1,000,000 of 3,000,000), JSON_ARRAY messages of 1,000 records, by `flowhouse replay`.
 *   1. Readers, interleaved, BENCH_RUNS times each (default 2), each reading the topic from the
 *      beginning with a fresh consumer group:
 *        a. flowhouse: the daemon on the flights pipeline (pipelines/flights.ts: transform + 2 views);
 *        b. flowhouse without a transform: the pipeline's own table, derived columns in the views;
 *        c. ClickHouse's Kafka engine in chDB (child process): the same table and views, a Kafka
 *           table (kafka_num_consumers = partitions, kafka_max_block_size 1048576,
 *           kafka_flush_interval_ms = the daemon's flush interval) and a MV computing the derived columns;
 *        d. one INSERT ... SELECT from the parquet file into the same table and views in chDB (the ceiling);
 *        e. a plain kafkajs consumer that JSON.parses every message.
 *      Per reader: rows/s from process start to the last row visible, CPU seconds of the process
 *      tree (all threads, /proc) and peak RSS; after each run the views must equal ClickHouse's
 *      aggregates over the parquet file, or the benchmark fails. Then medians and ratios.
 *   2. Latency: the daemon on a fresh topic while `replay --rate` sends BENCH_LATENCY_RATE rows/s
 *      (default 50,000) for BENCH_LATENCY_SECONDS (default 60); p50/p99 of
 *      flowhouse_end_to_end_latency_seconds (one observation per batch).
 *   3. Parallelism: a CPU-heavy transform (bench/heavy.ts) over BENCH_CPU_ROWS flights (default
 *      200,000) with parallelism 1 and 2, and as the reference the same function in 1 and 2 plain
 *      worker threads (bench/heavy-worker.ts): the ratio the machine's cores give.
 *   4. Formats: the first BENCH_REGISTRY_ROWS flights (default 200,000) consumed from a JSON_ARRAY
 *      topic and from an Avro schema registry topic (bench/registry.ts), tables checked against the
 *      parquet aggregate.
 *
 * Talks only to 127.0.0.1 (Kafka 9092, the schema registry 8081, the daemons' ports); every wait is bounded; deletes the
 * topics and consumer groups it created. Not a test: it never fails on timings.
 */
import { mkdir, writeFile, readFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { transformFreeModule } from './modules.ts'
import { FLIGHTS_PARQUET, ROOT, kafka, removeDir, runReplay, sql, startDaemon, tempDir, truth, waitFor, type DaemonProcess } from '../test/integration/helpers.ts'
import { setting } from '../src/util/environment.ts'
import { startChild } from './child.ts'
import { registryComparison } from './registry.ts'
import { VIEW_QUERIES, canonical, diffContents, truthQueries, type ViewContents } from './flights-sql.ts'
import { count, median, treeFigures } from './proc.ts'

const ROWS = Number(process.env.BENCH_ROWS || 1_000_000)
const RUNS = Number(process.env.BENCH_RUNS || 2)
const CPU_ROWS = Number(process.env.BENCH_CPU_ROWS || 200_000)
const REGISTRY_ROWS = Number(process.env.BENCH_REGISTRY_ROWS || 200_000)
const LATENCY_RATE = Number(process.env.BENCH_LATENCY_RATE || 50_000)
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS || 60)
const PARTITIONS = 2
/** The daemon's flush interval (FLOWHOUSE_BATCH_FLUSH_MS or its default), also the Kafka engine's kafka_flush_interval_ms. */
const FLUSH_MS = setting('FLOWHOUSE_BATCH_FLUSH_MS')
const PARTS = ['readers', 'latency', 'parallelism', 'formats'] as const
/** The parts to run (BENCH_PARTS, comma-separated; default all, in this order). */
const RUN_PARTS = new Set((process.env.BENCH_PARTS || PARTS.join(',')).split(',').map((p) => p.trim()))
for (const p of RUN_PARTS) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`BENCH_PARTS: unknown part "${p}" (parts: ${PARTS.join(', ')})`)
/** Bound of every single wait (a reader, a fill). */
const TIMEOUT_MS = 30 * 60_000
/** Prefix of every topic, pipeline and consumer group this run creates. */
const PREFIX = `bench_${Date.now().toString(36)}`

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')

interface Figures {
  /** Rows / seconds from the process start to the last row visible. */
  rowsPerSecond: number
  seconds: number
  /** Seconds from the process start until the reader was set up (daemon ready; tables created; consumer running). */
  startSeconds: number
  /** Rows / seconds from set-up to the last row visible. */
  readRowsPerSecond: number
  cpuSeconds: number
  peakRssMb: number
}

async function createTopic(topic: string, partitions: number): Promise<void> {
  const admin = kafka().admin()
  await admin.connect()
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] })
  } finally {
    await admin.disconnect()
  }
}

/** Deletes this run's topics and consumer groups (names starting with PREFIX, or `<PREFIX>-…`). */
async function cleanUp(): Promise<void> {
  const admin = kafka().admin()
  await admin.connect()
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(PREFIX))
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 }).catch(() => undefined)
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(PREFIX))
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined)
  } finally {
    await admin.disconnect()
  }
}

async function replay(topic: string, rows: number, extra: string[] = []): Promise<void> {
  const { code, output } = await runReplay([FLIGHTS_PARQUET, '--pipeline', topic, '--limit', String(rows), ...extra]).done
  if (code !== 0) throw new Error(`replay failed:\n${output}`)
}

/** pipelines/flights.ts with its pipeline (= topic) renamed. */
async function flightsModule(topic: string): Promise<string> {
  const source = await readFile(path.join(ROOT, 'pipelines/flights.ts'), 'utf8')
  const module = source.replace("new IngestPipeline('flights',", () => `new IngestPipeline('${topic}',`)
  if (module === source) throw new Error("pipelines/flights.ts no longer declares new IngestPipeline('flights', ...)")
  return module
}

function rates(seconds: number, startSeconds: number): Pick<Figures, 'rowsPerSecond' | 'seconds' | 'startSeconds' | 'readRowsPerSecond'> {
  return { rowsPerSecond: ROWS / seconds, seconds, startSeconds, readRowsPerSecond: ROWS / Math.max(seconds - startSeconds, 0.001) }
}

/** Reads the table and the views through the daemon's /api/sql; `table` is the table the rows land in. */
async function daemonContents(url: string, table: string, raw: boolean): Promise<ViewContents> {
  const tableQuery = raw ? `SELECT count() AS n, uniqExact(id) AS ids, countIf(delay > 15) AS delayed, 0 AS bad_route FROM ${table}` : VIEW_QUERIES.table
  return {
    table: canonical(await sql(url, tableQuery)),
    daily: canonical(await sql(url, VIEW_QUERIES.daily)),
    routes: canonical(await sql(url, VIEW_QUERIES.routes)),
  }
}

/** (a) / (b): a daemon on `module` reads the topic from the beginning with a fresh consumer group. */
async function daemonRun(label: string, topic: string, module: string, table: string, raw: boolean): Promise<{ figures: Figures; contents: ViewContents }> {
  const dir = await tempDir(`bench-${label}`)
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(path.join(dir, 'pipelines', 'flights.ts'), module)
  const started = performance.now()
  const daemon = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data'), env: { FLOWHOUSE_GROUP_PREFIX: `${PREFIX}-${label}`, FLOWHOUSE_BATCH_FLUSH_MS: String(FLUSH_MS) } })
  const startSeconds = (performance.now() - started) / 1000
  try {
    await waitFor(async () => (await count(daemon.url, table)) >= ROWS, { timeoutMs: TIMEOUT_MS, intervalMs: 100, what: `${label}: all rows` })
    const seconds = (performance.now() - started) / 1000
    const tree = await treeFigures(daemon.child.pid!)
    return { figures: { ...rates(seconds, startSeconds), ...tree }, contents: await daemonContents(daemon.url, table, raw) }
  } finally {
    await daemon.kill('SIGTERM')
    await removeDir(dir)
  }
}

/** (c) / (d) / (e): a reader in a child process (bench/child.ts protocol). */
async function childRun<T>(label: string, script: string, args: Record<string, unknown>): Promise<{ figures: Figures; report: T }> {
  const started = performance.now()
  const reader = startChild(script, { ...args, timeoutMs: TIMEOUT_MS }, TIMEOUT_MS + 60_000)
  const startSeconds = ((await reader.ready) - started) / 1000
  await reader.done
  const seconds = (performance.now() - started) / 1000
  const tree = await treeFigures(reader.child.pid!)
  const report = await reader.report<T>()
  return { figures: { ...rates(seconds, startSeconds), ...tree }, report }
}

const READERS = {
  a: 'flowhouse daemon, flights pipeline (transform + 2 views)',
  b: 'flowhouse daemon, transform-free (derived columns in the views)',
  c: 'ClickHouse Kafka engine + MV, chDB 26.x (child process)',
  d: 'raw INSERT ... SELECT from the parquet file, chDB (ceiling)',
  e: 'plain kafkajs consumer, JSON.parse of every message',
} as const
type Reader = keyof typeof READERS

/** One run of one reader; throws when its views differ from the ground truth. */
async function readOnce(reader: Reader, run: number, topic: string, expected: ViewContents): Promise<Figures> {
  const label = `${reader}${run}`
  let figures: Figures
  let contents: ViewContents | undefined
  if (reader === 'a') ({ figures, contents } = await daemonRun(label, topic, await flightsModule(topic), 'flights', false))
  else if (reader === 'b') ({ figures, contents } = await daemonRun(label, topic, transformFreeModule(topic, PARTITIONS), topic, true))
  else if (reader === 'e') {
    const r = await childRun<{ records: number }>(label, 'json-reader.ts', { topic, group: `${PREFIX}-${label}`, rows: ROWS })
    figures = r.figures
    if (r.report.records !== ROWS) throw new Error(`${label}: the kafkajs consumer read ${r.report.records} records, the topic holds ${ROWS}`)
  } else {
    const dir = await tempDir(`bench-${label}`)
    try {
      const r = await childRun<ViewContents>(label, 'chdb-reader.ts', reader === 'c' ? { mode: 'kafka', dir, rows: ROWS, topic, group: `${PREFIX}-${label}`, partitions: PARTITIONS, flushMs: FLUSH_MS } : { mode: 'insert', dir, rows: ROWS })
      ;({ figures, report: contents } = r)
    } finally {
      await removeDir(dir)
    }
  }
  if (contents) {
    const diff = diffContents(contents, expected)
    if (diff) throw new Error(`${READERS[reader]}, run ${run}: the views differ from ClickHouse's aggregates over the parquet file: ${diff}`)
  }
  console.log(`  run ${run} ${reader}: ${fmt(figures.rowsPerSecond)} rows/s (${figures.seconds.toFixed(1)} s, of which start ${figures.startSeconds.toFixed(1)} s; ${fmt(figures.readRowsPerSecond)} rows/s after the start), CPU ${figures.cpuSeconds.toFixed(1)} s, peak RSS ${figures.peakRssMb.toFixed(0)} MiB${contents ? ', views = parquet aggregates' : ', all records parsed'}`)
  return figures
}

/** Quantile `q` of a Prometheus histogram (cumulative buckets by upper bound), interpolated linearly inside the bucket. */
function histogramQuantile(q: number, buckets: Array<[number, number]>): number {
  const total = buckets.at(-1)![1]
  const rank = q * total
  let previousBound = 0
  let previousCount = 0
  for (const [bound, cumulative] of buckets) {
    if (cumulative >= rank) {
      if (!Number.isFinite(bound)) return previousBound
      return previousBound + ((bound - previousBound) * (rank - previousCount)) / Math.max(cumulative - previousCount, 1)
    }
    previousBound = bound
    previousCount = cumulative
  }
  return previousBound
}

async function latency(): Promise<{ p50: number; p99: number; batches: number; rows: number; sendSeconds: number; allSeconds: number }> {
  const topic = `${PREFIX}_latency`
  const rows = Math.min(LATENCY_RATE * LATENCY_SECONDS, 3_000_000)
  await createTopic(topic, PARTITIONS)
  const dir = await tempDir('bench-latency')
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(path.join(dir, 'pipelines', 'flights.ts'), await flightsModule(topic))
  let daemon: DaemonProcess | undefined
  try {
    daemon = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data'), env: { FLOWHOUSE_GROUP_PREFIX: `${PREFIX}-latency`, FLOWHOUSE_BATCH_FLUSH_MS: String(FLUSH_MS) } })
    const started = performance.now()
    await replay(topic, rows, ['--rate', String(LATENCY_RATE)])
    const sendSeconds = (performance.now() - started) / 1000
    await waitFor(async () => (await count(daemon!.url, 'flights')) >= rows, { timeoutMs: TIMEOUT_MS, intervalMs: 200, what: 'latency: all rows' })
    const allSeconds = (performance.now() - started) / 1000
    const text = await (await fetch(`${daemon.url}/metrics`)).text()
    const buckets: Array<[number, number]> = []
    for (const m of text.matchAll(/^flowhouse_end_to_end_latency_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm)) buckets.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])])
    buckets.sort((x, y) => x[0] - y[0])
    if (buckets.length === 0) throw new Error('the daemon exposes no flowhouse_end_to_end_latency_seconds buckets')
    return { p50: histogramQuantile(0.5, buckets), p99: histogramQuantile(0.99, buckets), batches: buckets.at(-1)![1], rows, sendSeconds, allSeconds }
  } finally {
    await daemon?.kill('SIGTERM')
    await removeDir(dir)
  }
}

const cpuModule = (name: string, parallelism: number) => `
import { IngestPipeline, Key, OlapTable, t } from 'flowhouse'
import { heavyDigest } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'bench/heavy.ts')).href)}

const Flight = t.Object({ id: Key(t.String()), delay: t.Int32(), distance: t.UInt32(), origin: t.String(), destination: t.String() })
export const p = new IngestPipeline('${name}', { schema: Flight, table: false, stream: { parallelism: ${parallelism} } })
export const out = new OlapTable('cpu_out', t.Object({ id: Key(t.String()), digest: t.String() }), { orderByFields: ['id'] })

// CPU-heavy on purpose: 200 rounds of SHA-256 per record (bench/heavy.ts).
p.stream.addTransform(out, (f) => [{ id: f.id, digest: heavyDigest(f.id + f.origin + f.destination) }])
`

/**
 * The reference for the parallelism ratio: heavyDigest over `records` keys in plain worker
 * threads (no Kafka, no ClickHouse, no flowhouse), split over `threads`; digests per second.
 */
async function referenceRun(threads: number, records: number): Promise<number> {
  const started = performance.now()
  const per = Math.ceil(records / threads)
  await Promise.all(
    Array.from({ length: threads }, (_, i) => new Promise<number>((resolve, reject) => {
      const worker = new Worker(new URL('./heavy-worker.ts', import.meta.url), { workerData: { records: per, offset: i * per } })
      worker.once('message', resolve)
      worker.once('error', reject)
    })),
  )
  return (per * threads) / ((performance.now() - started) / 1000)
}

/** Rows/s of the CPU-heavy transform from the daemon's start, and from when it was ready (as rates() counts). */
async function cpuRun(parallelism: number): Promise<{ fromStart: number; afterStart: number }> {
  const name = `${PREFIX}_cpu_p${parallelism}`
  const dir = await tempDir(`bench-cpu-p${parallelism}`)
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(path.join(dir, 'pipelines', 'cpu.ts'), cpuModule(name, parallelism))
  const env = { FLOWHOUSE_GROUP_PREFIX: `${PREFIX}-cpu` }
  let daemon: DaemonProcess | undefined
  try {
    // Fill the topic first (partitions = parallelism), then start the daemon: the measurement is consumption only.
    await createTopic(name, parallelism)
    await replay(name, CPU_ROWS)
    const started = performance.now()
    daemon = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data'), env })
    const ready = performance.now()
    await waitFor(async () => (await count(daemon!.url, 'cpu_out')) >= CPU_ROWS, { timeoutMs: TIMEOUT_MS, intervalMs: 200, what: 'cpu rows' })
    const ended = performance.now()
    return { fromStart: CPU_ROWS / ((ended - started) / 1000), afterStart: CPU_ROWS / ((ended - ready) / 1000) }
  } finally {
    await daemon?.kill('SIGTERM')
    await removeDir(dir)
  }
}

try {
  console.log(`Node.js ${process.version}: every reader and daemon of this run`)
  if (RUN_PARTS.has('readers')) {
    const [file] = await truth<{ n: number }>(`SELECT count() AS n FROM file('${FLIGHTS_PARQUET}', Parquet)`)
    if (ROWS > Number(file!.n)) throw new Error(`BENCH_ROWS=${ROWS} exceeds the ${fmt(Number(file!.n))} flights of the parquet file`)
    const queries = truthQueries(ROWS)
    const expected = Object.fromEntries(await Promise.all(Object.entries(queries).map(async ([k, q]) => [k, canonical(await truth(q))]))) as ViewContents
    const topic = `${PREFIX}_flights`
    const filling = performance.now()
    await createTopic(topic, PARTITIONS)
    await replay(topic, ROWS)
    console.log(`topic ${topic}: ${fmt(ROWS)} of the ${fmt(Number(file!.n))} flights, ${PARTITIONS} partitions, JSON_ARRAY messages of 1,000 records (filled in ${((performance.now() - filling) / 1000).toFixed(1)} s); flush interval ${FLUSH_MS} ms`)
    console.log(`readers (${RUNS} interleaved runs each, from the beginning of the topic, fresh consumer group each):`)
    for (const [key, text] of Object.entries(READERS)) console.log(`  ${key}. ${text}`)

    const results: Record<Reader, Figures[]> = { a: [], b: [], c: [], d: [], e: [] }
    for (let run = 1; run <= RUNS; run++) for (const reader of Object.keys(READERS) as Reader[]) results[reader].push(await readOnce(reader, run, topic, expected))

    const med = (reader: Reader, key: keyof Figures) => median(results[reader].map((f) => f[key]))
    const usPerRow = (reader: Reader) => (med(reader, 'cpuSeconds') * 1e6) / ROWS
    console.log(`\nmedians of ${RUNS} runs (rows/s from process start to the last row visible, and after the reader's start; CPU of the process tree, all threads, start included):`)
    console.log('| reader | rows/s | start s | rows/s after start | CPU s | CPU µs/row | peak RSS MiB |')
    console.log('|---|---:|---:|---:|---:|---:|---:|')
    for (const reader of Object.keys(READERS) as Reader[]) {
      console.log(`| ${reader}. ${READERS[reader]} | ${fmt(med(reader, 'rowsPerSecond'))} | ${med(reader, 'startSeconds').toFixed(1)} | ${fmt(med(reader, 'readRowsPerSecond'))} | ${med(reader, 'cpuSeconds').toFixed(1)} | ${usPerRow(reader).toFixed(1)} | ${fmt(med(reader, 'peakRssMb'))} |`)
    }
    console.log('\nflowhouse (a) and its transform-free variant (b) against the references of the same run (medians):')
    console.log('| ratio | rows/s | rows/s after start | CPU per row | peak RSS |')
    console.log('|---|---:|---:|---:|---:|')
    for (const ours of ['a', 'b'] as const) {
      for (const ref of ['c', 'd', 'e'] as const) {
        const ratio = (key: keyof Figures) => (med(ours, key) / med(ref, key)).toFixed(2)
        console.log(`| ${ours} / ${ref} | ${ratio('rowsPerSecond')} | ${ratio('readRowsPerSecond')} | ${ratio('cpuSeconds')} | ${ratio('peakRssMb')} |`)
      }
    }
  }
  if (RUN_PARTS.has('latency')) {
    const lat = await latency()
    console.log(`\nend-to-end latency, flights pipeline, ${fmt(lat.rows)} flights replayed at ${fmt(LATENCY_RATE)} rows/s (${(lat.rows / LATENCY_RATE).toFixed(0)} s): p50 ${(lat.p50 * 1000).toFixed(0)} ms, p99 ${(lat.p99 * 1000).toFixed(0)} ms over ${fmt(lat.batches)} batches (flowhouse_end_to_end_latency_seconds, Kafka timestamp of a batch's oldest message to its insert acknowledgement; flush interval ${FLUSH_MS} ms)`)
    console.log(`  the replay sent for ${lat.sendSeconds.toFixed(1)} s (${fmt(lat.rows / lat.sendSeconds)} rows/s achieved); the last row was in ClickHouse ${lat.allSeconds.toFixed(1)} s after the first was sent${lat.allSeconds > lat.sendSeconds + 10 ? ': the daemon did not keep up with the rate, so the latency includes the lag' : ''}`)
  }
  if (RUN_PARTS.has('parallelism')) {
    const p1 = await cpuRun(1)
    const p2 = await cpuRun(2)
    const referenceRecords = Math.max(1_000, Math.round(CPU_ROWS / 10))
    const r1 = await referenceRun(1, referenceRecords)
    const r2 = await referenceRun(2, referenceRecords)
    console.log(`CPU-heavy transform, ${fmt(CPU_ROWS)} flights: parallelism 1 ${fmt(p1.fromStart)} rows/s, parallelism 2 ${fmt(p2.fromStart)} rows/s, ratio ${(p2.fromStart / p1.fromStart).toFixed(2)} from the daemon's start; after it was ready ${fmt(p1.afterStart)} and ${fmt(p2.afterStart)} rows/s, ratio ${(p2.afterStart / p1.afterStart).toFixed(2)} (goal ≥ 1.8 on 2 cores)`)
    console.log(`  reference, the same function in plain worker threads over ${fmt(referenceRecords)} keys: 1 thread ${fmt(r1)}/s, 2 threads ${fmt(r2)}/s, ratio ${(r2 / r1).toFixed(2)} (what this machine's two cores give); flowhouse's ratio after start / the reference's: ${(p2.afterStart / p1.afterStart / (r2 / r1)).toFixed(2)}`)
  }
  if (RUN_PARTS.has('formats')) {
    const formats = await registryComparison(REGISTRY_ROWS)
    console.log(`\nthe same ${fmt(REGISTRY_ROWS)} flights from a JSON_ARRAY topic and from an Avro schema registry topic (one message per row), flights schema, no transform, parallelism 2, tables = parquet aggregate:`)
    for (const f of formats) console.log(`  ${f.label}: ${fmt(f.rowsPerSecond)} rows/s (daemon start included), CPU ${f.cpuSeconds.toFixed(1)} s, peak RSS ${fmt(f.peakRssMb)} MiB`)
    console.log(`  Avro / JSON_ARRAY rows/s: ${(formats[1]!.rowsPerSecond / formats[0]!.rowsPerSecond).toFixed(2)}`)
  }
} finally {
  await cleanUp()
}
