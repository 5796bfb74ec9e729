/**
 * The ClickHouse stage over HTTP against the project's server (Debian's clickhouse-server 18.16
 * from `bash scripts/services.sh up clickhouse`, or FLOWHOUSE_TEST_CLICKHOUSE_URL). Each run
 * works in its own database, dropped at the end; SQL stays within what 18.16 supports.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { createClient, ClickHouseLogLevel } from '@clickhouse/client'
import { deliveryGuarantee } from '../../../src/clickhouse/capabilities.ts'
import { ClickHouse, createClickHouse } from '../../../src/clickhouse/client.ts'
import { resolveClickHouseOptions } from '../../../src/clickhouse/options.ts'
import { provisionTable } from '../../../src/clickhouse/provision.ts'
import { queryReadonly, queryRows } from '../../../src/clickhouse/query.ts'
import { withRetry } from '../../../src/clickhouse/retry.ts'
import { insertBatch } from '../../../src/clickhouse/writer.ts'
import { dedupToken } from '../../../src/delivery/token.ts'
import { ClickHouseError, FlowhouseError } from '../../../src/errors.ts'
import type { OlapTableLike } from '../../../src/model/types.ts'
import { provisionView } from '../../../src/views/provision.ts'

const url = process.env.FLOWHOUSE_TEST_CLICKHOUSE_URL || 'http://127.0.0.1:8123'
const name = (prefix: string): string => `${prefix}_${randomUUID().slice(0, 8)}`

function table(tableName: string): OlapTableLike {
  return {
    kind: 'table',
    name: tableName,
    schema: {} as never,
    config: { engine: 'MergeTree', orderByFields: ['id'], partitionBy: 'toYYYYMM(ts)' },
    columns: [
      { name: 'id', type: 'String' },
      { name: 'ts', type: 'DateTime' },
      { name: 'origin', type: 'String' },
      { name: 'delay', type: 'Int32' },
    ],
  }
}

const rows = [
  { id: 'f1', ts: '2001-01-01T00:01:00.000Z', origin: 'SFO', delay: 5 },
  { id: 'f2', ts: '2001-01-01T00:02:00.000Z', origin: 'LAX', delay: 7 },
]

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('ClickHouse server over HTTP', () => {
  const database = name('fh_test')
  let ch: ClickHouse

  before(async () => {
    try {
      ch = await createClickHouse({ url, database, env: {} })
    } catch (error) {
      throw new Error(`no ClickHouse server at ${url}: start it with "bash scripts/services.sh up clickhouse" (${String(error)})`)
    }
  })

  after(async () => {
    if (!ch) return
    await ch.client.command({ query: `DROP DATABASE IF EXISTS \`${database}\`` }).catch(() => undefined)
    await ch.close()
  })

  it('detects the capabilities and the delivery guarantee the server version gives (at-least-once before 22.2)', () => {
    assert.equal(ch.mode, 'server')
    const m = /^(\d+)\.(\d+)\./.exec(ch.serverVersion)
    assert.ok(m, `a version like 18.16.1: ${ch.serverVersion}`)
    // insert_deduplication_token came with ClickHouse 22.2 (its changelog): the version decides.
    const tokens = Number(m[1]) > 22 || (Number(m[1]) === 22 && Number(m[2]) >= 2)
    assert.equal(ch.capabilities.insertDeduplicationToken, tokens, `insert_deduplication_token on ${ch.serverVersion}`)
    assert.equal(deliveryGuarantee(ch.capabilities).guarantee, tokens ? 'exactly-once' : 'at-least-once', `guarantee on ${ch.serverVersion}`)
    if (Number(m[1]) === 18) {
      // Debian's 18.16, the project's test server: every capability is known.
      assert.deepEqual(ch.capabilities, {
        insertDeduplicationToken: false,
        nonReplicatedDedupWindow: false,
        dedupDependentViews: false,
        insertDeduplicate: true,
        deduplicateInsert: false,
        describeQuery: true,
        queryParameters: false,
        dateTimeBestEffort: true,
        skipUnknownFields: true,
        formatQuery: false,
        missingTypes: ['DateTime64', 'Bool', 'Date32', 'Map', 'Int128', 'Int256', 'UInt256', 'UInt128', 'IPv4', 'IPv6', 'Object', 'JSON'],
      })
      assert.deepEqual(deliveryGuarantee(ch.capabilities), {
        guarantee: 'at-least-once',
        reason: 'the engine lacks insert_deduplication_token, non_replicated_deduplication_window, deduplicate_blocks_in_dependent_materialized_views (ClickHouse < 22.2): a batch retried after a crash may be written twice',
      })
    }
  })

  it('ping answers ok', async () => {
    assert.deepEqual(await ch.ping(), { ok: true })
  })

  it('creates a table with old-server DDL, inserts ISO-8601 rows and counts them', async () => {
    const t = name('flights')
    const created = await provisionTable(ch, table(t))
    assert.deepEqual(created.statements, [
      `CREATE TABLE IF NOT EXISTS \`${database}\`.\`${t}\` (\`id\` String, \`ts\` DateTime, \`origin\` String, \`delay\` Int32) ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY (\`id\`)${ch.capabilities.nonReplicatedDedupWindow ? ' SETTINGS non_replicated_deduplication_window = 1000' : ''}`,
    ])
    assert.equal((await provisionTable(ch, table(t))).status, 'unchanged')
    const result = await withRetry(() => insertBatch(ch, { table: t, rows: [...rows, { ...rows[0], id: 'f3', unknown: 1 }], dedupToken: dedupToken(t, 'flights', 0, 0, 2) }))
    assert.equal(result.rows, 3)
    const [row] = await queryRows<{ c: string; first: string }>(ch, `SELECT count() AS c, toString(min(ts)) AS first FROM \`${t}\``)
    assert.deepEqual(row, { c: '3', first: '2001-01-01 00:01:00' })
  })

  it('creates a SummingMergeTree view target from DESCRIBE and feeds it', async () => {
    const t = name('flights')
    await provisionTable(ch, table(t))
    const view = await provisionView(ch, {
      kind: 'view',
      name: name('by_origin_mv'),
      select: `SELECT origin, count() AS n FROM ${t} GROUP BY origin`,
      source: t,
      target: { name: name('by_origin'), engine: 'SummingMergeTree', orderByFields: ['origin'] },
    })
    assert.equal(view.status, 'created')
    await insertBatch(ch, { table: t, rows })
    const sums = await queryRows<{ origin: string; n: string }>(ch, `SELECT origin, sum(n) AS n FROM \`${view.target.table}\` GROUP BY origin ORDER BY origin`)
    assert.deepEqual(sums, [
      { origin: 'LAX', n: '1' },
      { origin: 'SFO', n: '1' },
    ])
  })

  it('read-only queries bind parameters into the text and refuse writes', async () => {
    const t = name('flights')
    await provisionTable(ch, table(t))
    await insertBatch(ch, { table: t, rows })
    assert.deepEqual(await queryReadonly(ch, `SELECT count() AS c FROM ${t} WHERE origin = {origin:String}`, { origin: 'SFO' }), [{ c: '1' }])
    await assert.rejects(queryReadonly(ch, `DROP TABLE ${t}`), (e: unknown) => e instanceof FlowhouseError && e.code === 'QUERY_REJECTED')
    await assert.rejects(queryReadonly(ch, `INSERT INTO ${t} (id) VALUES ('x')`), (e: unknown) => e instanceof FlowhouseError && e.code === 'QUERY_REJECTED')
  })

  it("parses the 18.16 error format into a code and type", async () => {
    await assert.rejects(queryRows(ch, 'SELECT * FROM no_such_table'), (e: unknown) => {
      assert.ok(e instanceof ClickHouseError)
      assert.equal(e.chCode, 60)
      assert.equal(e.type, 'UNKNOWN_TABLE')
      assert.equal(e.retriable, false)
      return true
    })
  })

  it('ping returns ok: false, not a throw, when nothing listens on the port', async () => {
    const deadUrl = `http://127.0.0.1:${await closedPort()}`
    const client = createClient({ url: deadUrl, request_timeout: 2_000, log: { level: ClickHouseLogLevel.OFF } })
    const dead = new ClickHouse({ options: resolveClickHouseOptions({ url: deadUrl, env: {} }), client, readonlyClient: client, serverVersion: ch.serverVersion, capabilities: ch.capabilities })
    const ping = await dead.ping()
    assert.equal(ping.ok, false)
    if (!ping.ok) {
      assert.ok(ping.error instanceof ClickHouseError)
      assert.equal(ping.error.retriable, true)
    }
    await dead.close()
  })

  it('connecting to a closed port fails with a retriable ClickHouseError', async () => {
    const port = await closedPort()
    await assert.rejects(createClickHouse({ url: `http://127.0.0.1:${port}`, requestTimeoutMs: 2_000, env: {} }), (e: unknown) => {
      assert.ok(e instanceof ClickHouseError)
      assert.equal(e.retriable, true)
      return true
    })
  })
})
