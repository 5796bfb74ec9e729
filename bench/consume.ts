/**
 * `npm run bench:consume`: consumption of a pre-filled topic. Fills the flights topic with
 * BENCH_ROWS flights (default 300,000) once, then starts the daemon on the flights pipeline
 * BENCH_RUNS times (default 2), each reading the topic from the beginning, and prints per run:
 * rows/s (daemon start to the last row in ClickHouse), the daemon's CPU seconds (all threads,
 * utime + stime from /proc/<pid>/stat), its peak RSS (VmHWM) and its CPU by thread name (proc.ts
 * threadCpuSeconds: the main thread, the transform workers, chDB's threads). A figure, never a
 * failure.
 *
 * BENCH_FILL=0 reads the topic as an earlier run left it (no refill).
 * BENCH_CPU_PROF=<dir> runs the daemon with `--cpu-prof --cpu-prof-dir <dir>` (one profile per
 * thread, written at exit).
 * BENCH_PIPELINE=transform-free runs the daemon on the flights pipeline without its transform
 * (bench/modules.ts: the pipeline's own `flights` table, the derived columns in the views) on the
 * same topic instead of pipelines/flights.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { FLIGHTS_PARQUET, ROOT, removeDir, resetKafka, runReplay, startDaemon, tempDir, waitFor } from '../test/integration/helpers.ts'
import { transformFreeModule } from './modules.ts'
import { count, daemonCpuSeconds, peakRssMb, threadCpuSeconds } from './proc.ts'

const ROWS = Number(process.env.BENCH_ROWS || 300_000)
const RUNS = Number(process.env.BENCH_RUNS || 2)
const PROFILE_DIR = process.env.BENCH_CPU_PROF
const TRANSFORM_FREE = process.env.BENCH_PIPELINE === 'transform-free'
if (process.env.BENCH_PIPELINE && !TRANSFORM_FREE) throw new Error(`BENCH_PIPELINE=${process.env.BENCH_PIPELINE}: set it to transform-free, or leave it unset for pipelines/flights.ts`)
const pipelinesDir = path.join(ROOT, 'pipelines')
const nodeArgs = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []

async function fill(): Promise<void> {
  await resetKafka(['flights', 'flights.dlq'], ['flowhouse.flights'])
  const dataDir = await tempDir('bench-fill')
  // The daemon creates the topics; it is stopped before any message is produced.
  const daemon = await startDaemon({ pipelinesDir, dataDir })
  await daemon.kill('SIGTERM')
  await removeDir(dataDir)
  const { code, output } = await runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--limit', String(ROWS)]).done
  if (code !== 0) throw new Error(output)
}

async function consume(run: number): Promise<{ rowsPerSecond: number; seconds: number; cpuSeconds: number; peakRss: number; threads: string }> {
  await resetKafka([], ['flowhouse.flights'])
  const dataDir = await tempDir(`bench-consume-${run}`)
  let modules = pipelinesDir
  if (TRANSFORM_FREE) {
    modules = path.join(dataDir, 'pipelines')
    await mkdir(modules)
    await writeFile(path.join(modules, 'flights.ts'), transformFreeModule('flights', 2))
  }
  const started = performance.now()
  const daemon = await startDaemon({ pipelinesDir: modules, dataDir: path.join(dataDir, 'data'), nodeArgs })
  try {
    await waitFor(async () => (await count(daemon.url, 'flights')) >= ROWS, { timeoutMs: 3_600_000, intervalMs: 100, what: 'all rows' })
    const seconds = (performance.now() - started) / 1000
    const pid = daemon.child.pid!
    const threads = (await threadCpuSeconds(pid)).filter((t) => t.cpuSeconds >= 0.05).map((t) => `${t.name} ×${t.threads} ${t.cpuSeconds.toFixed(1)} s`).join(', ')
    return { rowsPerSecond: ROWS / seconds, seconds, cpuSeconds: await daemonCpuSeconds(pid), peakRss: await peakRssMb(pid), threads }
  } finally {
    await daemon.kill('SIGTERM')
    await removeDir(dataDir)
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
if (process.env.BENCH_FILL !== '0') {
  await fill()
  console.log(`topic flights filled with ${fmt(ROWS)} flights`)
}
for (let run = 1; run <= RUNS; run++) {
  const r = await consume(run)
  console.log(`run ${run}: ${fmt(r.rowsPerSecond)} rows/s (${r.seconds.toFixed(1)} s), daemon CPU ${r.cpuSeconds.toFixed(1)} s (${((r.cpuSeconds * 1e6) / ROWS).toFixed(1)} µs/row), peak RSS ${r.peakRss.toFixed(0)} MiB`)
  console.log(`  CPU by thread name: ${r.threads}`)
}
