/**
 * `npm run bench:registry`: the registry part of `npm run bench` alone (bench/registry.ts) on
 * BENCH_ROWS real flights (default 100,000); BENCH_CPU_PROF=<dir> writes a `--cpu-prof` profile
 * per daemon thread into `<dir>/json` and `<dir>/avro`. Prints figures, never fails on timings.
 */
import { registryComparison } from './registry.ts'

const ROWS = Number(process.env.BENCH_ROWS || 100_000)
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const figures = await registryComparison(ROWS, process.env.BENCH_CPU_PROF || undefined)
const [json, avro] = figures
console.log(`${fmt(ROWS)} flights consumed: ${figures.map((f) => `${f.label} ${fmt(f.rowsPerSecond)} rows/s, CPU ${f.cpuSeconds.toFixed(1)} s, peak RSS ${fmt(f.peakRssMb)} MiB`).join('; ')}; Avro / JSON_ARRAY rows/s ${(avro!.rowsPerSecond / json!.rowsPerSecond).toFixed(2)}`)
