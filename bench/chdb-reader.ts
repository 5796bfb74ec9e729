/**
 * Child process of `npm run bench`: the flights table and views of pipelines/flights.ts in the
 * embedded ClickHouse engine (chDB), filled either by ClickHouse's Kafka table engine with a
 * materialized view that computes the derived columns (`mode: 'kafka'`), or by one
 * `INSERT ... SELECT` from the parquet file (`mode: 'insert'`, the engine's ceiling).
 * Protocol in bench/child.ts; the report is the views' contents (bench/flights-sql.ts).
 */
import { Session } from 'chdb'
import { FLIGHTS_PARQUET } from '../test/integration/helpers.ts'
import { announceReady, reportAndExit, waitForReportRequest } from './child.ts'
import { DERIVED_COLUMNS, FLIGHTS_DDL, VIEW_QUERIES, canonical } from './flights-sql.ts'

interface Args {
  mode: 'kafka' | 'insert'
  dir: string
  rows: number
  topic?: string
  group?: string
  partitions?: number
  flushMs?: number
  timeoutMs: number
}

const args = JSON.parse(process.argv[2]!) as Args
const session = new Session(args.dir)
const rowsOf = (query: string): Array<Record<string, unknown>> =>
  session
    .query(query, 'JSONEachRow')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
const RAW = `id String, date DateTime64(3, 'UTC'), delay Int32, distance UInt32, origin String, destination String`

for (const ddl of FLIGHTS_DDL) session.query(ddl)
if (args.mode === 'kafka') {
  session.query(`CREATE TABLE flights_queue (${RAW}) ENGINE = Kafka SETTINGS
    kafka_broker_list = '127.0.0.1:9092', kafka_topic_list = '${args.topic}', kafka_group_name = '${args.group}',
    kafka_format = 'JSONEachRow', kafka_num_consumers = ${args.partitions}, kafka_thread_per_consumer = 1,
    kafka_max_block_size = 1048576, kafka_flush_interval_ms = ${args.flushMs}, date_time_input_format = 'best_effort'`)
  session.query(`CREATE MATERIALIZED VIEW flights_queue_mv TO flights AS SELECT id, date, delay, distance, origin, destination, ${DERIVED_COLUMNS} FROM flights_queue`)
  announceReady()
  const deadline = Date.now() + args.timeoutMs
  while (Number(session.query('SELECT count() FROM flights', 'CSV').trim()) < args.rows) {
    if (Date.now() > deadline) throw new Error(`the Kafka engine did not read ${args.rows} rows within ${args.timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
} else {
  announceReady()
  session.query(`INSERT INTO flights SELECT toString(rowNumberInAllBlocks()) AS id, date, delay, distance, origin, destination, ${DERIVED_COLUMNS}
                 FROM (SELECT * FROM file('${FLIGHTS_PARQUET}', Parquet) LIMIT ${args.rows}) SETTINGS input_format_parquet_preserve_order = 1`)
}
console.log(JSON.stringify({ done: true }))
await waitForReportRequest()
if (args.mode === 'kafka') session.query('DROP TABLE flights_queue_mv SYNC')
const contents = Object.fromEntries(Object.entries(VIEW_QUERIES).map(([key, query]) => [key, canonical(rowsOf(query))]))
session.cleanup()
reportAndExit(contents)
