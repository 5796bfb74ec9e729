/**
 * The SQL sandbox against the real clickhouse-server 18.16 (no EXPLAIN there: the parse is
 * chDB's, in process). The server would follow a `url()` to any address and run any query for
 * as long as it likes; through the sandbox it does neither. Works in its own database.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { createClickHouse, type ClickHouse } from '../../../src/clickhouse/client.ts'
import { queryReadonly, queryRows, runCommand } from '../../../src/clickhouse/query.ts'
import { tableSql } from '../../../src/clickhouse/ddl.ts'
import { ConfigError, FlowhouseError } from '../../../src/errors.ts'
import { definitionFromRequest } from '../../../src/views/definition.ts'

const url = process.env.FLOWHOUSE_TEST_CLICKHOUSE_URL || 'http://127.0.0.1:8123'
const database = `fh_sbx_${randomUUID().slice(0, 8)}`
let ch: ClickHouse

before(async () => {
  ch = await createClickHouse({ url, database, sandbox: { maxSeconds: 2, sessions: 2, queue: 2 }, env: {} })
  await runCommand(ch, 'CREATE TABLE events (id String, n Int32) ENGINE = MergeTree ORDER BY id')
  await runCommand(ch, "INSERT INTO events VALUES ('a', 1), ('b', 2)")
})

after(async () => {
  await runCommand(ch, `DROP DATABASE IF EXISTS ${database}`).catch(() => undefined)
  await ch?.close()
})

const refused = (sql: string, rule?: RegExp) =>
  assert.rejects(queryReadonly(ch, sql), (e: unknown) => e instanceof FlowhouseError && e.code === 'QUERY_REJECTED' && (rule === undefined || rule.test(e.message)), sql)

describe('SQL sandbox on clickhouse-server 18.16', () => {
  it('a SELECT over a flowhouse table answers', async () => {
    assert.deepEqual(await queryReadonly(ch, 'SELECT id, n FROM events ORDER BY id'), [{ id: 'a', n: 1 }, { id: 'b', n: 2 }])
    assert.equal((await queryReadonly(ch, `SELECT count() AS c FROM ${database}.events WHERE n IN (SELECT n FROM events)`))[0]!.c, '2')
  })

  it("url() to an address of the caller's choice is refused before the server sees it", async () => {
    await refused("SELECT * FROM url('http://127.0.0.1:4000/api/pipelines', LineAsString, 'line String')", /table function url\(\)/)
  })

  it("file(), INTO OUTFILE and KILL are refused", async () => {
    await refused("SELECT file('/etc/passwd')", /function file\(\)/)
    await refused("SELECT 1 INTO OUTFILE '/tmp/flowhouse-sbx-out.tsv'")
    assert.equal(existsSync('/tmp/flowhouse-sbx-out.tsv'), false)
    await refused("KILL QUERY WHERE query LIKE 'INSERT%'")
  })

  it('a query over system.numbers is stopped by the time limit the server enforces', async () => {
    const started = Date.now()
    await refused('SELECT count() FROM system.numbers WHERE number % 7 = 100', /FLOWHOUSE_SQL_MAX_SECONDS/)
    assert.ok(Date.now() - started < 8_000, `answered after ${Date.now() - started} ms`)
  })

  it('a 1e7-row answer is refused by the result limit', async () => {
    await refused('SELECT number FROM system.numbers LIMIT 10000000', /FLOWHOUSE_SQL_MAX_RESULT_ROWS/)
  })

  it('a slow query does not block another reader', async () => {
    const slow = queryReadonly(ch, 'SELECT count() FROM system.numbers WHERE number % 7 = 100').catch((e: unknown) => e)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const started = Date.now()
    assert.deepEqual(await queryReadonly(ch, 'SELECT 1 AS one'), [{ one: 1 }])
    assert.ok(Date.now() - started < 1_000)
    assert.ok((await slow) instanceof FlowhouseError)
  })
})

describe('no SQL from callers in DDL on clickhouse-server 18.16', () => {
  it('a column type injecting a URL engine is refused and creates no table', async () => {
    const body = {
      name: 'leak',
      source_table: 'events',
      engine: 'MergeTree',
      order_by: ['id'],
      columns: [{ name: 'id', type: "String) ENGINE = URL('http://127.0.0.1:4000/x', TSV) --" }],
      select_query: 'SELECT id FROM {source_table}',
    }
    assert.throws(() => definitionFromRequest(body, database), (e: unknown) => e instanceof ConfigError && e.context.field === 'columns[0].type')
    assert.throws(() => tableSql({ name: 'leak_data', columns: body.columns, engine: 'MergeTree', orderByFields: ['id'] }, { database, dedupWindow: false, dedupWindowBlocks: 1 }), ConfigError)
    assert.deepEqual(await queryRows(ch, `SELECT name FROM system.tables WHERE database = '${database}' AND name LIKE 'leak%'`), [])
  })

  it('the types the grammar prints are accepted by 18.16', async () => {
    const def = definitionFromRequest(
      {
        name: 'typed',
        source_table: 'events',
        engine: 'MergeTree',
        order_by: ['id'],
        columns: [
          { name: 'id', type: 'String' },
          { name: 'amount', type: 'Decimal(10,2)' },
          { name: 'at', type: "DateTime('UTC')" },
          { name: 'kind', type: "Enum8('a' = 1, 'it''s' = 2)" },
          { name: 'tags', type: 'Array(LowCardinality(String))' },
          { name: 'opt', type: 'Nullable(Float64)' },
        ],
        select_query: 'SELECT id FROM {source_table}',
      },
      database,
    )
    await runCommand(ch, tableSql({ name: 'typed_data', columns: def.target.columns!, engine: 'MergeTree', orderByFields: ['id'] }, { database, dedupWindow: false, dedupWindowBlocks: 1 }))
    const columns = await queryRows<{ name: string; type: string }>(ch, `SELECT name, type FROM system.columns WHERE database = '${database}' AND table = 'typed_data'`)
    assert.deepEqual(columns.map((c) => c.type), ['String', 'Decimal(10, 2)', "DateTime('UTC')", "Enum8('a' = 1, 'it\\'s' = 2)", 'Array(LowCardinality(String))', 'Nullable(Float64)'])
  })
})
