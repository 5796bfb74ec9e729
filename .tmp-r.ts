import { openReader, readAll } from './src/replay/readers.ts'
const f = 'node_modules/vega-datasets/data/flights-3m.parquet'
console.log((await readAll(f, { limit: 2 })))
let t = performance.now(); let n = 0; let peak = 0; let sum = 0
const r = await openReader(f)
for await (const c of r.chunks()) { n += c.records.length; for (const x of c.records) sum += x.delay as number; peak = Math.max(peak, process.memoryUsage().rss) }
console.log(n, sum, performance.now() - t, peak / 1e6)
