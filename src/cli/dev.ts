/**
 * `flowhouse dev` (what `npm run dev` runs): starts the local Kafka broker, runs the daemon on
 * the embedded ClickHouse with ./pipelines, replays the real flights, waits until the views
 * hold every row, and prints a sample view query with its result.
 *
 * It starts from a clean slate each time: the `flights` topics, the consumer group and the
 * embedded data folder `.data/dev` are reset, so the totals always match the file.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { queryRows } from '../clickhouse/query.ts'
import { resolveConfig } from '../config.ts'
import { Daemon } from '../daemon/daemon.ts'
import { createKafka } from '../kafka/client.ts'
import type { KafkaSecurity } from '../kafka/options.ts'
import { replay } from '../replay/index.ts'
import { createProgressPrinter } from '../replay/progress.ts'
import { printTable } from './table.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
// vega-datasets may be hoisted next to flowhouse (an installed package) or sit in its own node_modules.
const FLIGHTS = path.join(path.dirname(createRequire(import.meta.url).resolve('vega-datasets')), '../data/flights-3m.parquet')
/** ./pipelines of the current folder when there is one (a project using flowhouse), else flowhouse's own example. */
const PIPELINES = existsSync('pipelines') ? path.resolve('pipelines') : path.join(root, 'pipelines')

const SAMPLE = `SELECT origin,
       sum(flights) AS total_flights,
       sum(delayed_flights) AS delayed,
       round(100 * delayed / total_flights, 1) AS delayed_pct,
       round(sum(total_delay) / total_flights, 1) AS avg_delay_min
FROM flights_daily_delays
GROUP BY origin
ORDER BY total_flights DESC
LIMIT 10`

async function resetKafka(brokers: string[], security: KafkaSecurity): Promise<void> {
  const admin = createKafka(brokers, 'flowhouse-dev', security).admin()
  await admin.connect()
  try {
    const topics: string[] = (await admin.listTopics()).filter((t) => t === 'flights' || t === 'flights.dlq')
    if (topics.length > 0) {
      await admin.deleteTopics({ topics, timeout: 30_000 })
      for (let i = 0; i < 120 && (await admin.listTopics()).some((t) => topics.includes(t)); i++) await sleep(250)
    }
    await admin.deleteGroups(['flowhouse.flights']).catch(() => undefined)
  } finally {
    await admin.disconnect()
  }
}

export async function devCommand(options: { limit?: number; keepRunning: boolean }): Promise<void> {
  const up = spawnSync('bash', [path.join(root, 'scripts/services.sh'), 'up', 'kafka'], { stdio: 'inherit' })
  if (up.status !== 0) throw new Error('could not start the local Kafka broker (scripts/services.sh up kafka)')

  // Always the embedded engine, whatever CLICKHOUSE_URL says.
  const config = resolveConfig({ ...process.env, CLICKHOUSE_URL: '' }, { pipelinesDir: PIPELINES, dataDir: path.join(PIPELINES, '../.data/dev') })
  await resetKafka(config.brokers, config.kafkaSecurity)
  await rm(config.dataDir, { recursive: true, force: true })

  console.log(`▶ starting the daemon (embedded ClickHouse in ${path.relative(process.cwd(), config.dataDir)}, pipelines from ./pipelines)`)
  const daemon = await Daemon.start(config)
  console.log(`▶ daemon on ${daemon.url}  (metrics: ${daemon.url}/metrics, readiness: ${daemon.url}/ready)`)
  try {
    await replayAndQuery(daemon, config.brokers, config.kafkaSecurity, options.limit)
  } catch (error) {
    await daemon.stop()
    throw error
  }
  if (!options.keepRunning) {
    await daemon.stop()
    return
  }
  console.log(`\nthe daemon keeps running on ${daemon.url}; Ctrl-C to stop`)
  const stop = () => void daemon.stop().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

/** Replays the flights, waits until ClickHouse holds them all, and prints the sample query. */
async function replayAndQuery(daemon: Daemon, brokers: string[], security: KafkaSecurity, limit: number | undefined): Promise<void> {
  console.log(`▶ replaying ${limit ?? 'all 3,000,000'} real flights from vega-datasets flights-3m.parquet`)
  const started = Date.now()
  const sent = await replay({ file: FLIGHTS, topic: 'flights', brokers, security, limit, onProgress: createProgressPrinter() })
  const ch = daemon.clickhouse
  let rows = 0
  for (;;) {
    rows = Number((await queryRows<{ n: string }>(ch, 'SELECT count() AS n FROM flights'))[0]?.n ?? 0)
    if (rows >= sent.records) break
    await sleep(500)
  }
  const seconds = (Date.now() - started) / 1000
  console.log(`▶ ${rows.toLocaleString('en-US')} flights in ClickHouse after ${seconds.toFixed(1)} s (${Math.round(rows / seconds).toLocaleString('en-US')} rows/s end to end)`)
  console.log(`\n▶ sample query on the materialized view flights_daily_delays:\n\n${SAMPLE}\n`)
  printTable(await queryRows(ch, SAMPLE))
  console.log(`\ntry:  npx flowhouse sql "SELECT route, countMerge(flights) AS n, round(avgMerge(avg_distance)) AS miles, maxMerge(max_delay) AS worst FROM flights_route_stats GROUP BY route ORDER BY n DESC LIMIT 5"`)
}
