/**
 * `npm run bench:insert`: which insert format moves the most rows per CPU second into ClickHouse,
 * for the rows the flights pipeline writes (pipelines/flights.ts after `enrich()`), into the
 * `flights` table with its two materialized views. Not a test: it never fails on timings.
 *
 * The first BENCH_INSERT_ROWS flights (default 500,000) are read once from the parquet file as
 * row objects, the shape a transform worker holds. Then, interleaved BENCH_INSERT_RUNS times
 * (default 3), each variant inserts them in batches of FLOWHOUSE_BATCH_MAX_ROWS (100,000) rows,
 * each batch with its own deduplication token, as the daemon does:
 *   - JSONEachRow: `JSON.stringify` per row, joined, with the daemon's insert settings (writer.ts);
 *   - JSONCompactEachRow: one JSON array of the column values per row;
 *   - RowBinary: bench/rowbinary.ts over the table's DESCRIBE TABLE column types (server only);
 *   - embedded only: chDB's raw insert (the body handed over as a Buffer) instead of the
 *     client's exec, and the raw insert with `async_insert = 1, wait_for_async_insert = 1`;
 * into the embedded engine (chDB, in this process) and, unless BENCH_INSERT_SERVER=0, the server
 * at CLICKHOUSE_URL (default http://127.0.0.1:8123; its own table types when it is older).
 *
 * Figures per variant (medians): rows/s of the inserts, JavaScript CPU to build the bodies (µs
 * per row), ClickHouse CPU to take them (µs per row: this process's CPU during the insert for
 * the embedded engine, the server process's /proc CPU for the server) and the total, with ratios
 * against JSONEachRow on the same engine. After each run the table and both views are compared
 * with ClickHouse's own aggregates over the parquet file, or the benchmark stops.
 */
import { readFile, readdir, rm, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { createClickHouse, type ClickHouse } from '../src/clickhouse/client.ts'
import { queryRows, runCommand } from '../src/clickhouse/query.ts'
import { qualifiedName, settingsSql } from '../src/clickhouse/sql.ts'
import { insertSettings } from '../src/clickhouse/writer.ts'
import { flightsSource } from '../test/integration/helpers.ts'
import { DERIVED_COLUMNS, FLIGHTS_DDL, VIEW_QUERIES, canonical, diffContents, truthQueries, type ViewContents } from './flights-sql.ts'
import { daemonCpuSeconds, median } from './proc.ts'
import { rowBinaryEncoder } from './rowbinary.ts'

const ROWS = Number(process.env.BENCH_INSERT_ROWS || 500_000)
const RUNS = Number(process.env.BENCH_INSERT_RUNS || 3)
const BATCH = Number(process.env.FLOWHOUSE_BATCH_MAX_ROWS || 100_000)
const SERVER_URL = process.env.CLICKHOUSE_URL || 'http://127.0.0.1:8123'

type Format = 'JSONEachRow' | 'JSONCompactEachRow' | 'RowBinary'
/** `exec`: through @clickhouse/client's exec (the daemon's path to a server); `raw`: chDB's raw Buffer insert (the daemon's path to the embedded engine, writer.ts). */
type Path = 'exec' | 'raw'
interface Variant {
  format: Format
  path: Path
  async: boolean
}
/**
 * chDB 3.4's connection turns an exec body into a UTF-8 string appended to the SQL, so binary
 * formats cannot go through it, and its raw insert takes text formats only: RowBinary is measured
 * on the server alone.
 */
const EMBEDDED: Variant[] = [
  { format: 'JSONEachRow', path: 'exec', async: false },
  { format: 'JSONEachRow', path: 'raw', async: false },
  { format: 'JSONCompactEachRow', path: 'raw', async: false },
  { format: 'JSONEachRow', path: 'raw', async: true },
]
const SERVER: Variant[] = [
  { format: 'JSONEachRow', path: 'exec', async: false },
  { format: 'JSONCompactEachRow', path: 'exec', async: false },
  { format: 'RowBinary', path: 'exec', async: false },
]
const label = (v: Variant): string => `${v.format}${v.path === 'raw' ? ' (raw Buffer insert)' : ' (client exec)'}${v.async ? ' + async_insert' : ''}`

/** chDB's raw insert on its own session of the embedded engine's folder. */
type RawInsert = (params: { table: string; values: Buffer; format: string; settings: Record<string, string | number> }) => Promise<unknown>

interface Figures {
  rowsPerSecond: number
  buildUsPerRow: number
  engineUsPerRow: number
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** CPU seconds of the ClickHouse server process (all threads, proc.ts), or 0 for the embedded engine. */
async function serverCpuSeconds(pid: number | undefined): Promise<number> {
  return pid === undefined ? 0 : daemonCpuSeconds(pid)
}

/** The pid of the local clickhouse-server (the process listening for SERVER_URL), from /proc. */
async function serverPid(): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
    if (/clickhouse-server|clickhouse\0server/.test(cmd)) return Number(entry)
  }
  return undefined
}

/** The flights DDL for this engine: older servers have no DateTime64 or Bool. */
function ddlFor(ch: ClickHouse): string[] {
  if (ch.capabilities.insertDeduplicationToken) return FLIGHTS_DDL
  return FLIGHTS_DDL.map((s) => s.replace("DateTime64(3, 'UTC')", 'DateTime').replace('delayed Bool', 'delayed UInt8'))
}

async function reset(ch: ClickHouse): Promise<void> {
  for (const name of ['flights_route_stats_mv', 'flights_daily_delays_mv']) await runCommand(ch, `DROP TABLE IF EXISTS ${qualifiedName(ch.database, name)}`)
  for (const name of ['flights', 'flights_daily_delays', 'flights_route_stats']) await runCommand(ch, `DROP TABLE IF EXISTS ${qualifiedName(ch.database, name)}`)
  for (const statement of ddlFor(ch)) await runCommand(ch, statement)
}

async function contents(ch: ClickHouse, queries: Record<keyof ViewContents, string>): Promise<ViewContents> {
  const out = {} as ViewContents
  for (const key of Object.keys(queries) as Array<keyof ViewContents>) out[key] = canonical(await queryRows(ch, queries[key]))
  return out
}

async function insertExec(ch: ClickHouse, format: Format, body: Buffer, settings: Record<string, string | number>): Promise<void> {
  const inline = ch.mode === 'embedded'
  const result = await ch.client.exec({
    query: `INSERT INTO ${qualifiedName(ch.database, 'flights')}${inline ? ` SETTINGS ${settingsSql(settings)}` : ''} FORMAT ${format}`,
    values: Readable.from([body], { objectMode: false }),
    ...(inline ? {} : { clickhouse_settings: settings }),
  })
  result.stream.resume()
  await finished(result.stream)
}

async function runVariant(ch: ClickHouse, raw: RawInsert | undefined, pid: number | undefined, rows: Array<Record<string, unknown>>, v: Variant, run: number, expected: ViewContents): Promise<Figures> {
  await reset(ch)
  const columns = (await queryRows<{ name: string; type: string }>(ch, `DESCRIBE TABLE ${qualifiedName(ch.database, 'flights')}`)).map((c) => ({ name: c.name, type: c.type }))
  const names = columns.map((c) => c.name)
  const encode = rowBinaryEncoder(columns)
  const build = (batch: Array<Record<string, unknown>>): string | Buffer => {
    if (v.format === 'RowBinary') return encode(batch)
    if (v.format === 'JSONCompactEachRow') return batch.map((r) => JSON.stringify(names.map((n) => r[n]))).join('\n') + '\n'
    return batch.map((r) => JSON.stringify(r)).join('\n') + '\n'
  }
  const extra: Record<string, string | number> = v.async ? { async_insert: 1, wait_for_async_insert: 1 } : {}
  let buildMs = 0
  let insertMs = 0
  let engineSeconds = 0
  for (let first = 0; first < rows.length; first += BATCH) {
    const batch = rows.slice(first, first + BATCH)
    const token = `bench:${run}:${label(v)}:${first}`
    const cpu0 = cpuMs()
    const body = build(batch)
    buildMs += cpuMs() - cpu0
    const server0 = await serverCpuSeconds(pid)
    const started = performance.now()
    const cpu2 = cpuMs()
    const settings = { ...insertSettings(ch, token), ...extra }
    if (v.path === 'raw') await raw!({ table: 'flights', values: Buffer.from(body), format: v.format, settings })
    else await insertExec(ch, v.format, Buffer.from(body), settings)
    insertMs += performance.now() - started
    engineSeconds += pid === undefined ? (cpuMs() - cpu2) / 1000 : (await serverCpuSeconds(pid)) - server0
  }
  const diff = diffContents(await contents(ch, VIEW_QUERIES), expected)
  if (diff) throw new Error(`${label(v)} on ${ch.mode}, run ${run}: the table and views differ from the parquet aggregates: ${diff}`)
  return { rowsPerSecond: rows.length / (insertMs / 1000), buildUsPerRow: (buildMs * 1000) / rows.length, engineUsPerRow: (engineSeconds * 1e6) / rows.length }
}

async function bench(ch: ClickHouse, raw: RawInsert | undefined, pid: number | undefined, rows: Array<Record<string, unknown>>, expected: ViewContents): Promise<void> {
  // JSONCompactEachRow came with ClickHouse 19.
  const variants = ch.mode === 'embedded' ? EMBEDDED : SERVER.filter((v) => v.format !== 'JSONCompactEachRow' || Number(ch.serverVersion.split('.')[0]) >= 19)
  const figures = new Map<string, Figures[]>()
  for (let run = 1; run <= RUNS; run++) {
    for (const v of variants) {
      const f = await runVariant(ch, raw, pid, rows, v, run, expected)
      figures.set(label(v), [...(figures.get(label(v)) ?? []), f])
      console.log(`  run ${run} ${ch.mode} ${label(v)}: ${fmt(f.rowsPerSecond)} rows/s, build ${f.buildUsPerRow.toFixed(2)} µs/row, engine ${f.engineUsPerRow.toFixed(2)} µs/row`)
    }
  }
  const med = (l: string, k: keyof Figures): number => median(figures.get(l)!.map((f) => f[k]))
  const base = label(variants[0]!)
  const total = (l: string): number => med(l, 'buildUsPerRow') + med(l, 'engineUsPerRow')
  console.log(`\n${ch.mode} ClickHouse ${ch.serverVersion}, ${fmt(rows.length)} rows in batches of ${fmt(BATCH)}, medians of ${RUNS} runs; table and views = parquet aggregates after every run`)
  console.log('| format | rows/s | build µs/row | engine µs/row | total µs/row | rows/s ÷ JSONEachRow | CPU/row ÷ JSONEachRow |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const v of variants) {
    const l = label(v)
    console.log(`| ${l} | ${fmt(med(l, 'rowsPerSecond'))} | ${med(l, 'buildUsPerRow').toFixed(2)} | ${med(l, 'engineUsPerRow').toFixed(2)} | ${total(l).toFixed(2)} | ${(med(l, 'rowsPerSecond') / med(base, 'rowsPerSecond')).toFixed(2)} | ${(total(l) / total(base)).toFixed(2)} |`)
  }
}

const dataDir = await mkdtemp(path.join(tmpdir(), 'flowhouse-bench-insert-'))
const chdbPath = path.join(dataDir, 'chdb')
const embedded = await createClickHouse({ chdbPath, env: {} })
const { createChdbConnection } = await import('chdb/connection')
const rawConnection = createChdbConnection({ path: chdbPath }) as unknown as { chdb: { rawInsert: RawInsert }; close(): Promise<void> }
try {
  const lines = await queryRows<Record<string, unknown>>(embedded, `SELECT id, formatDateTime(date, '%Y-%m-%dT%H:%i:%SZ') AS date, delay, distance, origin, destination, ${DERIVED_COLUMNS} FROM ${flightsSource(ROWS)}`)
  const rows = lines.map((r) => ({ ...r, delayed: Boolean(r.delayed) }))
  console.log(`${fmt(rows.length)} flights read from the parquet file as row objects`)
  const expected = await contents(embedded, truthQueries(ROWS))
  await bench(embedded, (p) => rawConnection.chdb.rawInsert(p), undefined, rows, expected)
  if (process.env.BENCH_INSERT_SERVER !== '0') {
    const server = await createClickHouse({ url: SERVER_URL, env: {} })
    try {
      await bench(server, undefined, await serverPid(), rows, expected)
    } finally {
      await server.close()
    }
  }
} finally {
  await rawConnection.close()
  await embedded.close()
  await rm(dataDir, { recursive: true, force: true })
}
