/**
 * ON CLUSTER and Distributed DDL against a real two-node cluster: two Debian clickhouse-server
 * (18.16) instances, one shard each, with Debian's ZooKeeper for distributed DDL, started by
 * scripts/cluster.sh. A view created through the API with `cluster: "auto"` must create its
 * target, MV and `<name>_dist` on both nodes, backfill each node's existing rows (key watermark:
 * 18.16 has no persisted block numbers), keep both nodes current through their MVs, answer
 * queries through the Distributed table with the aggregate over every flight of both shards, and
 * drop everything on both nodes. Skipped loudly when the packages are not installed, and failed
 * then under CI=true (scripts/setup.sh installs them).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { ROOT, flightsSource, removeDir, startDaemon, tempDir, truth, waitFor, type DaemonProcess } from '../helpers.ts'
import { api, details, waitCompleted, type JobView } from './helpers.ts'
import { skipUnlessInstalled } from '../../packages.ts'

const NODES = ['http://127.0.0.1:8131', 'http://127.0.0.1:8132']
const database = `fh_cluster_${randomBytes(4).toString('hex')}`
const VIEW = 'c_by_origin'
const cluster = (command: string) => spawnSync('bash', [path.join(ROOT, 'scripts/cluster.sh'), command], { encoding: 'utf8' })
const missing = skipUnlessInstalled(cluster('check').status === 3 ? 'the cluster test needs Debian packages clickhouse-server and zookeeper (apt-get install clickhouse-server zookeeper; scripts/setup.sh does)' : undefined)

let daemon: DaemonProcess | undefined
let dir: string

async function ch(node: string, query: string, body?: string): Promise<string> {
  const res = await fetch(`${node}/?query=${encodeURIComponent(query)}`, { method: 'POST', body: body ?? '' })
  const text = await res.text()
  if (!res.ok) throw new Error(`${node}: ${text}\n${query}`)
  return text
}

/** Inserts flights [skip, skip + limit) of the parquet file, even ids on node 1 and odd ids on node 2. */
async function insertFlights(skip: number, limit: number): Promise<void> {
  const rows = await truth<Record<string, unknown>>(
    `SELECT toUInt64(id) AS id, toString(toDateTime(date, 'UTC')) AS date, delay, distance, origin, destination FROM ${flightsSource(limit, skip)}`,
  )
  for (const [n, node] of NODES.entries()) {
    const mine = rows.filter((r) => Number(r.id) % 2 === n)
    await ch(node, `INSERT INTO ${database}.flights_local FORMAT JSONEachRow`, mine.map((r) => JSON.stringify(r)).join('\n'))
  }
}

async function tables(node: string): Promise<string[]> {
  return (await ch(node, `SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`)).split('\n').filter(Boolean)
}

before(async () => {
  if (missing) return
  const up = cluster('up')
  assert.equal(up.status, 0, up.stderr)
  await ch(NODES[0]!, `CREATE DATABASE IF NOT EXISTS ${database} ON CLUSTER fh_cluster`)
  await ch(
    NODES[0]!,
    `CREATE TABLE ${database}.flights_local ON CLUSTER fh_cluster (id UInt64, date DateTime, delay Int32, distance UInt32, origin String, destination String) ENGINE = MergeTree ORDER BY id`,
  )
  dir = await tempDir('mv-cluster')
  await mkdir(path.join(dir, 'pipelines'))
  daemon = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data'), env: { CLICKHOUSE_URL: NODES[0]!, CLICKHOUSE_DATABASE: database } })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (!missing) {
    await ch(NODES[0]!, `DROP DATABASE IF EXISTS ${database} ON CLUSTER fh_cluster`).catch(() => undefined)
    cluster('down')
  }
  if (dir) await removeDir(dir)
})

test('a clustered view runs its DDL ON CLUSTER, backfills every node and reads every shard through <name>_dist', { skip: missing, timeout: 600_000 }, async () => {
  await insertFlights(0, 40_000)
  const created = await api<{ job: JobView; error?: string }>(daemon!.url, 'POST', '/api/mv', {
    name: VIEW,
    source_table: 'flights_local',
    engine: 'SummingMergeTree()',
    order_by: ['origin'],
    columns: [
      { name: 'origin', type: 'String' },
      { name: 'flights', type: 'UInt64' },
      { name: 'total_delay', type: 'Int64' },
    ],
    select_query: 'SELECT origin, count() AS flights, sum(delay) AS total_delay FROM {source_table} GROUP BY origin',
    cluster: 'auto',
    batch_rows: 5_000,
  })
  assert.equal(created.status, 201, created.body.error)
  const job = created.body.job
  assert.equal(job.cluster_name, 'fh_cluster')
  assert.deepEqual(job.nodes.map((n) => n.node), ['127.0.0.1:9031', '127.0.0.1:9032'])
  assert.equal(job.cutoff, '39999', 'the cluster-wide cutoff is the highest id of both shards')
  const q = (s: string) => `\`${s}\``
  assert.deepEqual(job.statements, [
    `CREATE TABLE IF NOT EXISTS ${q(database)}.${q(`${VIEW}_data`)} ON CLUSTER ${q('fh_cluster')} (${q('origin')} String, ${q('flights')} UInt64, ${q('total_delay')} Int64) ENGINE = SummingMergeTree ORDER BY (${q('origin')})`,
    `CREATE TABLE IF NOT EXISTS ${q(database)}.${q(`${VIEW}_dist`)} ON CLUSTER ${q('fh_cluster')} AS ${q(database)}.${q(`${VIEW}_data`)} ENGINE = Distributed('fh_cluster', '${database}', '${VIEW}_data', rand())`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${q(database)}.${q(VIEW)} ON CLUSTER ${q('fh_cluster')} TO ${q(database)}.${q(`${VIEW}_data`)} AS SELECT origin, count() AS flights, sum(delay) AS total_delay FROM ${q(database)}.${q('flights_local')} WHERE ${q('id')} > CAST('39999' AS UInt64) GROUP BY origin`,
  ])
  for (const node of NODES) {
    const names = await tables(node)
    for (const name of [VIEW, `${VIEW}_data`, `${VIEW}_dist`]) assert.ok(names.includes(name), `${name} exists on ${node}`)
  }

  const done = await waitCompleted(daemon!.url, VIEW)
  assert.deepEqual(done.job.nodes.map((n) => n.total_rows), [20_000, 20_000], 'each node backfilled its own rows')
  assert.equal(done.job.processed_rows, 40_000)

  // New rows on both shards reach the view through each node's MV.
  await insertFlights(40_000, 20_000)
  const expected = (await truth<{ origin: string; flights: number; total_delay: number }>(
    `SELECT origin, count() AS flights, sum(delay) AS total_delay FROM ${flightsSource(60_000)} GROUP BY origin ORDER BY origin`,
  )).map((r) => [r.origin, Number(r.flights), Number(r.total_delay)])
  const read = async () => {
    const r = await api<{ rows: Array<{ origin: string; flights: string; total_delay: string }>; sql: string }>(daemon!.url, 'POST', `/api/mv/${VIEW}/query`, {
      select: ['origin', 'sum(flights) AS flights', 'sum(total_delay) AS total_delay'],
      group_by: 'origin',
      order_by: 'origin',
      limit: 10_000,
    })
    assert.match(r.body.sql, new RegExp(`FROM \`${database}\`\\.\`${VIEW}_dist\``), 'the query helper reads the Distributed table')
    return r.body.rows.map((x) => [x.origin, Number(x.flights), Number(x.total_delay)])
  }
  await waitFor(async () => JSON.stringify(await read()) === JSON.stringify(expected), { timeoutMs: 30_000, what: 'the view over both shards to equal the ground truth' })
  assert.deepEqual(await read(), expected)

  const d = await details(daemon!.url, VIEW)
  assert.ok(d.statistics.rows > 0 && d.statistics.parts > 0)

  const dropped = await api<{ dropped: string[] }>(daemon!.url, 'DELETE', `/api/mv/${VIEW}`)
  assert.equal(dropped.status, 200)
  for (const node of NODES) assert.deepEqual((await tables(node)).filter((t) => t.startsWith(VIEW)), [], `the view's tables are gone from ${node}`)
  assert.equal((await api(daemon!.url, 'GET', `/api/mv/${VIEW}`)).status, 404)
})
