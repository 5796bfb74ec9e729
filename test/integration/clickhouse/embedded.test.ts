/**
 * The ClickHouse stage against the embedded engine (chdb, ClickHouse 26.x in this process),
 * in a temporary data folder. chdb holds one data folder per process, so every test of this
 * file shares one handle; each test uses its own table names.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { deliveryGuarantee } from '../../../src/clickhouse/capabilities.ts'
import { createClickHouse, type ClickHouse } from '../../../src/clickhouse/client.ts'
import { provisionTable } from '../../../src/clickhouse/provision.ts'
import { queryReadonly, queryRows } from '../../../src/clickhouse/query.ts'
import { insertBatch } from '../../../src/clickhouse/writer.ts'
import { dedupToken } from '../../../src/delivery/token.ts'
import { ClickHouseError, FlowhouseError } from '../../../src/errors.ts'
import type { MaterializedViewLike, OlapTableLike } from '../../../src/model/types.ts'
import { inferColumns, provisionView } from '../../../src/views/provision.ts'

const name = (prefix: string): string => `${prefix}_${randomUUID().slice(0, 8)}`

function flightsTable(tableName: string, extra: Array<{ name: string; type: string }> = []): OlapTableLike {
  return {
    kind: 'table',
    name: tableName,
    schema: {} as never,
    config: { engine: 'MergeTree', orderByFields: ['id'] },
    columns: [
      { name: 'id', type: 'String' },
      { name: 'ts', type: 'DateTime' },
      { name: 'origin', type: 'String' },
      { name: 'delay', type: 'Int32' },
      ...extra,
    ],
  }
}

const records = [
  { id: 'f1', ts: '2001-01-01T00:01:00.000Z', origin: 'SFO', delay: 5 },
  { id: 'f2', ts: '2001-01-01T00:02:00.000Z', origin: 'LAX', delay: 7 },
  { id: 'f3', ts: '2001-01-02T10:00:00.000Z', origin: 'SFO', delay: -2 },
]
const jsonEachRow = records.map((r) => JSON.stringify(r)).join('\n') + '\n'

async function count(ch: ClickHouse, table: string): Promise<number> {
  const [row] = await queryRows<{ c: string | number }>(ch, `SELECT count() AS c FROM \`${table}\``)
  return Number(row?.c)
}

describe('embedded ClickHouse (chdb)', () => {
  let dir: string
  let ch: ClickHouse

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'flowhouse-chdb-'))
    ch = await createClickHouse({ chdbPath: path.join(dir, 'chdb'), database: 'fh_test', env: {} })
  })

  after(async () => {
    await ch?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('runs embedded with every capability of a current ClickHouse', async () => {
    assert.equal(ch.mode, 'embedded')
    assert.ok(Number(ch.serverVersion.split('.')[0]) >= 26, ch.serverVersion)
    assert.deepEqual(ch.capabilities, {
      insertDeduplicationToken: true,
      nonReplicatedDedupWindow: true,
      dedupDependentViews: true,
      insertDeduplicate: true,
      deduplicateInsert: true,
      describeQuery: true,
      queryParameters: true,
      dateTimeBestEffort: true,
      skipUnknownFields: true,
      formatQuery: true,
      // the deprecated Object('json') family is gone from current releases; JSON replaces it
      missingTypes: ['Object'],
    })
    assert.equal(deliveryGuarantee(ch.capabilities).guarantee, 'exactly-once')
    assert.deepEqual(await ch.ping(), { ok: true })
  })

  it('a batch retried with the same token is counted once in the table and in both MV targets', async () => {
    const src = name('flights')
    await provisionTable(ch, flightsTable(src))
    const summing: MaterializedViewLike = {
      kind: 'view',
      name: name('by_origin_mv'),
      select: `SELECT origin, count() AS n, sum(delay) AS total_delay FROM ${src} GROUP BY origin`,
      source: src,
      target: { name: name('by_origin'), engine: 'SummingMergeTree', orderByFields: ['origin'] },
    }
    const aggregating: MaterializedViewLike = {
      kind: 'view',
      name: name('delay_state_mv'),
      select: `SELECT origin, sumState(delay) AS total, uniqState(id) AS flights, avgState(delay) AS mean FROM ${src} GROUP BY origin`,
      source: src,
      target: { name: name('delay_state'), engine: 'AggregatingMergeTree', orderByFields: ['origin'] },
    }
    assert.equal((await provisionView(ch, summing)).status, 'created')
    const agg = await provisionView(ch, aggregating)
    assert.equal(agg.status, 'created')
    assert.match(agg.statements[0] ?? '', /`total` AggregateFunction\(sum, Int32\), `flights` AggregateFunction\(uniq, String\), `mean` AggregateFunction\(avg, Int32\)/)

    const token = dedupToken(src, 'flights', 0, '0', '2')
    const first = await insertBatch(ch, { table: src, rows: jsonEachRow, dedupToken: token })
    assert.deepEqual([first.rows, first.bytes], [3, Buffer.byteLength(jsonEachRow)])
    await insertBatch(ch, { table: src, rows: records, dedupToken: token }) // the retry, as objects
    await insertBatch(ch, { table: src, rows: jsonEachRow, dedupToken: token }) // and once more as text

    assert.equal(await count(ch, src), 3)
    const sums = await queryRows<{ origin: string; n: number; d: number }>(
      ch,
      `SELECT origin, sum(n) AS n, sum(total_delay) AS d FROM ${summing.target.name} GROUP BY origin ORDER BY origin`,
    )
    assert.deepEqual(sums.map((r) => [r.origin, Number(r.n), Number(r.d)]), [
      ['LAX', 1, 7],
      ['SFO', 2, 3],
    ])
    const states = await queryRows<{ origin: string; total: number; flights: number; mean: number }>(
      ch,
      `SELECT origin, sumMerge(total) AS total, uniqMerge(flights) AS flights, avgMerge(mean) AS mean FROM ${aggregating.target.name} GROUP BY origin ORDER BY origin`,
    )
    assert.deepEqual(states.map((r) => [r.origin, Number(r.total), Number(r.flights), Number(r.mean)]), [
      ['LAX', 7, 1, 7],
      ['SFO', 3, 2, 1.5],
    ])

    // The next batch of the partition has another token and is written.
    await insertBatch(ch, { table: src, rows: [{ id: 'f4', ts: '2001-01-03T00:00:00Z', origin: 'LAX', delay: 1 }], dedupToken: dedupToken(src, 'flights', 0, '3', '3') })
    assert.equal(await count(ch, src), 4)
    const [lax] = await queryRows<{ n: number }>(ch, `SELECT sum(n) AS n FROM ${summing.target.name} WHERE origin = 'LAX'`)
    assert.equal(Number(lax?.n), 2)
  })

  it('infers AggregateFunction column types for -State combinators with DESCRIBE', async () => {
    const src = name('flights')
    await provisionTable(ch, flightsTable(src))
    assert.deepEqual(await inferColumns(ch, `SELECT origin, sumState(delay) AS total, countState() AS n, max(ts) AS last FROM ${src} GROUP BY origin`), [
      { name: 'origin', type: 'String' },
      { name: 'total', type: 'AggregateFunction(sum, Int32)' },
      { name: 'n', type: 'AggregateFunction(count)' },
      { name: 'last', type: 'DateTime' },
    ])
  })

  it('two identical batches without a token are both written (regression: settings must not stick to the chdb session)', async () => {
    const src = name('flights')
    await provisionTable(ch, flightsTable(src))
    await insertBatch(ch, { table: src, rows: jsonEachRow, dedupToken: 'a-token' })
    await insertBatch(ch, { table: src, rows: jsonEachRow })
    await insertBatch(ch, { table: src, rows: jsonEachRow })
    assert.equal(await count(ch, src), 9)
  })

  it('parses ISO-8601 timestamps and skips unknown fields', async () => {
    const src = name('flights')
    await provisionTable(ch, flightsTable(src))
    await insertBatch(ch, { table: src, rows: [{ ...records[0], unknown_field: { nested: true } }] })
    const [row] = await queryRows<{ ts: string }>(ch, `SELECT toString(ts) AS ts FROM ${src}`)
    assert.equal(row?.ts, '2001-01-01 00:01:00')
  })

  it('a row ClickHouse cannot parse fails with a non-retriable ClickHouseError naming the table', async () => {
    const src = name('flights')
    await provisionTable(ch, flightsTable(src))
    await assert.rejects(insertBatch(ch, { table: src, rows: '{"id":"x","ts":"yesterday","origin":"SFO","delay":1}\n' }), (e: unknown) => {
      assert.ok(e instanceof ClickHouseError)
      assert.equal(e.retriable, false)
      assert.equal(e.type, 'CANNOT_PARSE_DATETIME')
      assert.equal(e.context.table, src)
      return true
    })
  })

  it('rows given as UTF-8 bytes are written as they are, multi-byte text included, and a refused one fails as a non-retriable ClickHouseError', async () => {
    const src = name('flights')
    await provisionTable(ch, flightsTable(src))
    const text = '{"id":"zürich-東京-😀","ts":"2001-01-01T00:01:00.000Z","origin":"SFO","delay":1}\n{"id":"b","ts":"2001-01-01T00:02:00.000Z","origin":"LAX","delay":2}\n'
    const result = await insertBatch(ch, { table: src, rows: new TextEncoder().encode(text), dedupToken: 'bytes-token' })
    assert.deepEqual([result.rows, result.bytes], [2, Buffer.byteLength(text)])
    const rows = await queryRows<{ id: string }>(ch, `SELECT id FROM ${src} ORDER BY id`)
    assert.deepEqual(rows.map((r) => r.id), ['b', 'zürich-東京-😀'])
    await assert.rejects(insertBatch(ch, { table: src, rows: new TextEncoder().encode('{"id":"x","ts":"2001-01-01T00:01:00Z","origin":"SFO","delay":1.0}\n') }), (e: unknown) => {
      assert.ok(e instanceof ClickHouseError)
      assert.equal(e.retriable, false)
      assert.equal(e.chCode, 27)
      assert.equal(e.context.table, src)
      return true
    })
  })

  it('inserts 100_000 rows of prebuilt JSONEachRow text in one batch', async () => {
    const src = name('flights')
    await provisionTable(ch, flightsTable(src))
    let text = ''
    for (let i = 0; i < 100_000; i++) text += `{"id":"f${i}","ts":"2001-01-01T00:01:00.000Z","origin":"SFO","delay":${i % 120}}\n`
    const result = await insertBatch(ch, { table: src, rows: text, dedupToken: dedupToken(src, 'flights', 1, 0, 99_999) })
    assert.equal(result.rows, 100_000)
    assert.equal(await count(ch, src), 100_000)
    assert.ok(result.durationMs < 10_000, `took ${result.durationMs} ms`)
  })

  it('read-only queries run; CREATE, INSERT, DROP and setting changes are refused by the sandbox; the read-write session still writes', async () => {
    const src = name('flights')
    await provisionTable(ch, flightsTable(src))
    await insertBatch(ch, { table: src, rows: jsonEachRow })
    assert.deepEqual(await queryReadonly(ch, `SELECT count() AS c FROM ${src} WHERE origin = {origin:String}`, { origin: 'SFO' }), [{ c: 2 }])
    for (const sql of [
      `CREATE TABLE ${name('x')} (a UInt8) ENGINE = Memory`,
      `INSERT INTO ${src} (id) VALUES ('z')`,
      `DROP TABLE ${src}`,
      `TRUNCATE TABLE ${src}`,
      `SELECT 1 SETTINGS readonly = 0`,
      `SELECT * FROM file('/etc/hostname', 'LineAsString')`,
    ]) {
      await assert.rejects(queryReadonly(ch, sql), (e: unknown) => e instanceof FlowhouseError && e.code === 'QUERY_REJECTED', sql)
    }
    // Behind the sandbox, the read-only sessions are pinned: readonly = 1 and the limits, which cannot change.
    await assert.rejects(ch.readonlyClient.command({ query: `INSERT INTO ${src} (id) VALUES ('z')` }), /READONLY|readonly/)
    await assert.rejects(ch.readonlyClient.command({ query: 'SET max_execution_time = 3600' }), /readonly/)
    const pinned = await (await ch.readonlyClient.query({ query: "SELECT getSetting('readonly') AS r, getSetting('max_execution_time') AS t, getSetting('max_result_rows') AS rows", format: 'JSONEachRow' })).json()
    assert.deepEqual(pinned, [{ r: 1, t: 30, rows: 100000 }])
    await assert.rejects(queryReadonly(ch, `SELECT 1; DROP TABLE ${src}`), { code: 'BAD_REQUEST', message: 'send one statement at a time (got 2)' })
    assert.equal(await count(ch, src), 3)
    await insertBatch(ch, { table: src, rows: jsonEachRow })
    assert.equal(await count(ch, src), 6)
  })

  it('provisioning is idempotent, adds new columns and refuses to drop or retype one', async () => {
    const t = name('flights')
    assert.equal((await provisionTable(ch, flightsTable(t))).status, 'created')
    assert.deepEqual(await provisionTable(ch, flightsTable(t)), { table: t, status: 'unchanged', addedColumns: [], drift: [], statements: [], typeFallbacks: [] })
    const altered = await provisionTable(ch, flightsTable(t, [{ name: 'distance', type: 'UInt32' }]))
    assert.equal(altered.status, 'altered')
    assert.deepEqual(altered.addedColumns, ['distance'])
    const retyped = flightsTable(t)
    retyped.columns[3] = { name: 'delay', type: 'Float64' }
    await assert.rejects(provisionTable(ch, retyped), {
      name: 'ConfigError',
      message: `table "${t}": refusing a destructive change: column "delay" is Int32 in ClickHouse but is declared as Float64; column "distance" exists in ClickHouse but is no longer declared. flowhouse only adds columns; it never drops or retypes one because that loses or rewrites data. Migrate the table by hand (ALTER TABLE ... DROP/MODIFY COLUMN) or give the table a new name.`,
    })
  })

  it('an existing view with another SELECT is reported and left as it is', async () => {
    const src = name('flights')
    await provisionTable(ch, flightsTable(src))
    const view: MaterializedViewLike = {
      kind: 'view',
      name: name('mv'),
      select: `SELECT origin, count() AS n FROM ${src} GROUP BY origin`,
      source: src,
      target: { name: name('t'), engine: 'SummingMergeTree', orderByFields: ['origin'] },
    }
    assert.equal((await provisionView(ch, view)).status, 'created')
    assert.equal((await provisionView(ch, { ...view, select: `select origin, count() as n\nfrom ${src} group by origin;` })).status, 'unchanged')
    const changed = await provisionView(ch, { ...view, select: `SELECT origin, count() * 2 AS n FROM ${src} GROUP BY origin` })
    assert.equal(changed.status, 'select_changed')
    assert.match(changed.existingSelect ?? '', /count\(\) AS n/)
    await insertBatch(ch, { table: src, rows: jsonEachRow })
    const [row] = await queryRows<{ n: number }>(ch, `SELECT sum(n) AS n FROM ${view.target.name}`)
    assert.equal(Number(row?.n), 3)
  })

  it('a second handle on another data folder is refused (chdb: one folder per process); the same folder works', async () => {
    await assert.rejects(createClickHouse({ chdbPath: path.join(dir, 'other'), env: {} }), (e: unknown) => {
      assert.ok(e instanceof FlowhouseError && e.code === 'CONFIG_INVALID', String(e))
      assert.match(e.message, /chdb holds one folder per process/)
      return true
    })
    const again = await createClickHouse({ chdbPath: path.join(dir, 'chdb'), database: 'fh_test', env: {} })
    try {
      assert.deepEqual(await again.ping(), { ok: true })
    } finally {
      await again.close()
    }
    assert.deepEqual(await ch.ping(), { ok: true })
  })

  it('close is idempotent and ping afterwards returns ok: false instead of throwing', async () => {
    const other = await createClickHouse({ chdbPath: path.join(dir, 'chdb'), database: 'fh_test', env: {} })
    await other.close()
    await other.close()
    const ping = await other.ping()
    assert.equal(ping.ok, false)
    assert.deepEqual(await ch.ping(), { ok: true })
  })
})
