/**
 * `npm run bench:views`: materialized-view benchmarks on the embedded engine (chDB, in this
 * process), over the 3,000,000 real flights (or BENCH_ROWS). Prints figures as ratios against a
 * reference measured in the same run; never fails on timings.
 *
 *   1. Backfill: the two-phase backfill of a new view (cutoff, MV, batches with dedup tokens and
 *      progress records, OPTIMIZE FINAL) through ViewManager, in rows/s of source rows, against a
 *      plain `INSERT INTO <target> SELECT <the view's SELECT> FROM flights` into an identical table.
 *   2. Query latency: the same aggregate read from the fresh view (directly, and through the query
 *      helper with bound parameters and the read-only session) and computed over the raw table;
 *      medians of BENCH_QUERY_RUNS runs after a warm-up.
 */
import path from 'node:path'
import { createClickHouse } from '../src/clickhouse/client.ts'
import { queryReadonly, queryRows, runCommand } from '../src/clickhouse/query.ts'
import { ViewManager, definitionFromRequest } from '../src/views/index.ts'
import { resolveViewsOptions } from '../src/views/options.ts'
import { FLIGHTS_PARQUET, removeDir, tempDir } from '../test/integration/helpers.ts'

const ROWS = Number(process.env.BENCH_ROWS || 3_000_000)
const RUNS = Number(process.env.BENCH_QUERY_RUNS || 30)
const BATCH_ROWS = Number(process.env.BENCH_MV_BATCH_ROWS || 1_000_000)
/** Runs of each write measurement (medians are printed). */
const REPEAT = Number(process.env.BENCH_REPEAT || 3)
/** Rows per insert block of the source, like the daemon's partition batches. */
const BLOCK_ROWS = 100_000

const SELECT = `SELECT origin, toDate(date) AS day, count() AS flights, sum(delay) AS total_delay, countIf(delayed) AS delayed_flights, sum(distance) AS distance
                FROM {source_table} GROUP BY origin, day`
const COLUMNS = 'origin String, day Date, flights UInt64, total_delay Int64, delayed_flights UInt64, distance UInt64'

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const ms = (n: number): string => `${n.toFixed(2)} ms`

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

async function timeIt(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await run()
  return performance.now() - started
}

const dir = await tempDir('bench-views')
const ch = await createClickHouse({ chdbPath: path.join(dir, 'chdb'), database: 'bench', env: {} })
const views = new ViewManager(ch, resolveViewsOptions(process.env, { batchRows: BATCH_ROWS, statusIntervalMs: 60_000 }))
try {
  await runCommand(ch, `CREATE TABLE flights (id String, date DateTime64(3, 'UTC'), delay Int32, distance UInt32, origin String, destination String, delayed Bool, route String) ENGINE = MergeTree ORDER BY (id)`)
  const loaded = await timeIt(() =>
    runCommand(
      ch,
      `INSERT INTO flights SELECT toString(rowNumberInAllBlocks()), date, delay, distance, origin, destination, delay > 15, concat(origin, '-', destination)
       FROM file('${FLIGHTS_PARQUET}', Parquet) LIMIT ${ROWS} SETTINGS max_insert_block_size = ${BLOCK_ROWS}, min_insert_block_size_rows = ${BLOCK_ROWS}, min_insert_block_size_bytes = 0`,
    ),
  )
  const [blocks] = await queryRows<{ parts: number; rows: number }>(ch, `SELECT count() AS parts, sum(rows) AS rows FROM system.parts WHERE active AND database = 'bench' AND table = 'flights'`)
  console.log(`source: ${fmt(Number(blocks!.rows))} flights in ${blocks!.parts} insert blocks, loaded in ${(loaded / 1000).toFixed(1)} s`)

  // Reference: one INSERT ... SELECT of the same view into an identical table (median of REPEAT runs).
  const plainTimes: number[] = []
  for (let i = 0; i < REPEAT; i++) {
    await runCommand(ch, `CREATE TABLE reference_${i} (${COLUMNS}) ENGINE = SummingMergeTree ORDER BY (origin, day)`)
    plainTimes.push(await timeIt(() => runCommand(ch, `INSERT INTO reference_${i} ${SELECT.replace('{source_table}', 'flights')}`)))
  }
  const optimize = await timeIt(() => runCommand(ch, 'OPTIMIZE TABLE reference_0 FINAL'))
  const plain = median(plainTimes)
  const plainRate = ROWS / (plain / 1000)
  console.log(`plain INSERT ... SELECT of the view: ${fmt(plainRate)} rows/s (median ${(plain / 1000).toFixed(2)} s of ${REPEAT}; OPTIMIZE FINAL of its result ${(optimize / 1000).toFixed(2)} s)`)

  // Two-phase backfill through the manager: REPEAT new views over the same source.
  await views.start()
  const backfillTimes: number[] = []
  let total = 0
  for (let i = 0; i < REPEAT; i++) {
    const name = `daily_${i}`
    const started = performance.now()
    await views.create(definitionFromRequest({ name, source_table: 'flights', engine: 'SummingMergeTree', order_by: ['origin', 'day'], select_query: SELECT }, ch.database))
    for (;;) {
      const job = views.job(name)
      if (job.status === 'completed') break
      if (job.status === 'failed') throw new Error(`backfill failed: ${job.error_message}`)
      await new Promise((r) => setTimeout(r, 5))
    }
    backfillTimes.push(performance.now() - started)
    total = views.job(name).total_rows
    const [check] = await queryRows<{ a: number }>(ch, `SELECT sum(flights) AS a FROM ${name}_data`)
    if (Number(check!.a) !== ROWS) throw new Error(`view ${name} holds ${check!.a} flights, the source ${ROWS}`)
  }
  const backfill = median(backfillTimes)
  const backfillRate = total / (backfill / 1000)
  console.log(
    `two-phase backfill (cutoff + MV + batches of ≥ ${fmt(BATCH_ROWS)} rows with dedup tokens and progress records + OPTIMIZE FINAL): ${fmt(backfillRate)} rows/s (median ${(backfill / 1000).toFixed(2)} s of ${REPEAT})`,
  )
  console.log(`ratio backfill / plain INSERT ... SELECT: ${(backfillRate / plainRate).toFixed(3)}`)

  // Query latency: flights per origin for one month, from the fresh view and from the raw table.
  const fromView = `SELECT origin, sum(flights) AS flights, sum(total_delay) AS total_delay FROM daily_0_data WHERE day >= '2001-03-01' AND day < '2001-04-01' GROUP BY origin ORDER BY flights DESC LIMIT 20`
  const fromRaw = `SELECT origin, count() AS flights, sum(delay) AS total_delay FROM flights WHERE date >= '2001-03-01' AND date < '2001-04-01' GROUP BY origin ORDER BY flights DESC LIMIT 20`
  const helper = () =>
    views.query('daily_0', {
      select: ['origin', 'sum(flights) AS total', 'sum(total_delay) AS delay_minutes'],
      filter: "day >= '2001-03-01' AND day < '2001-04-01'",
      group_by: 'origin',
      order_by: 'total DESC',
      limit: 20,
    })
  const a = await queryReadonly(ch, fromView)
  const b = await queryReadonly(ch, fromRaw)
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error('the view and the raw aggregate disagree')
  const measure = async (run: () => Promise<unknown>): Promise<number> => {
    for (let i = 0; i < 3; i++) await run()
    const times: number[] = []
    for (let i = 0; i < RUNS; i++) times.push(await timeIt(run))
    return median(times)
  }
  const viewMs = await measure(() => queryReadonly(ch, fromView))
  const helperMs = await measure(helper)
  const rawMs = await measure(() => queryReadonly(ch, fromRaw))
  console.log(`query latency (median of ${RUNS}), flights and delay per origin for March 2001:`)
  console.log(`  fresh view, direct SQL:        ${ms(viewMs)}`)
  console.log(`  fresh view, query helper:      ${ms(helperMs)} (parse + bound parameters + read-only session)`)
  console.log(`  same aggregate over raw table: ${ms(rawMs)}`)
  console.log(`  speed-up view / raw: ${(rawMs / viewMs).toFixed(1)}x (helper: ${(rawMs / helperMs).toFixed(1)}x)`)
} finally {
  await views.stop()
  await ch.close()
  await removeDir(dir)
}
