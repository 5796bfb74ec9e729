/**
 * Attacks on the admin API of a daemon on the embedded engine, each reproduced and shown to fail:
 * SQL pasted into DDL through POST /api/mv column types, host files, INTO OUTFILE, KILL and
 * unbounded queries through /api/sql, table functions in an API view's SELECT, dropping a
 * module's view, and a constraint config that would break ingest.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { removeDir, sql, startDaemon, tempDir, waitFor, type DaemonProcess } from '../helpers.ts'
import { api } from '../views/helpers.ts'

const tag = randomBytes(3).toString('hex')
const PIPELINE = `sbx_${tag}`
const MODULE_VIEW = `sbx_${tag}_by_kind`
let daemon: DaemonProcess
let dir: string
let pipelinesDir: string

type Answer = { rows?: unknown[]; error?: string; code?: string; job?: unknown }
const runSql = (query: string) => api<Answer>(daemon.url, 'POST', '/api/sql', { query })

before(async () => {
  dir = await tempDir('sandbox')
  pipelinesDir = path.join(dir, 'pipelines')
  await mkdir(pipelinesDir)
  await writeFile(
    path.join(pipelinesDir, 'events.ts'),
    `import { Constraint, IngestPipeline, Key, MaterializedView, t } from 'flowhouse'
export const events = new IngestPipeline('${PIPELINE}', {
  schema: t.Object({ id: Key(t.String()), kind: t.String(), n: t.Int32() }),
  table: { orderByFields: ['id'] },
  constraints: [new Constraint({ name: 'rate', type: 'rate', config: { max_events_per_second: 1000, group_by: ['kind'] } })],
})
export const byKind = new MaterializedView({
  name: '${MODULE_VIEW}',
  source: events,
  select: 'SELECT kind, count() AS c FROM ${PIPELINE} GROUP BY kind',
  target: { name: '${MODULE_VIEW}_data', engine: 'SummingMergeTree', orderByFields: ['kind'] },
})
`,
  )
  daemon = await startDaemon({
    pipelinesDir,
    dataDir: path.join(dir, 'data'),
    env: { FLOWHOUSE_RELOAD_INTERVAL_MS: '300', FLOWHOUSE_SQL_MAX_SECONDS: '3', FLOWHOUSE_SQL_SESSIONS: '2', FLOWHOUSE_SQL_QUEUE: '2', FLOWHOUSE_BATCH_FLUSH_MS: '200' },
  })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dir) await removeDir(dir)
})

const tables = async (name: string) => Number((await sql<{ n: number }>(daemon.url, `SELECT count() AS n FROM system.tables WHERE name = '${name}'`))[0]!.n)

describe('no SQL from callers in DDL', () => {
  const view = (name: string, type: string) => ({
    name,
    source_table: PIPELINE,
    engine: 'MergeTree',
    order_by: ['kind'],
    columns: [{ name: 'kind', type }],
    select_query: "SELECT 'export const pwned = 1' AS kind FROM {source_table}",
  })

  test('a column type closing the column list with a File engine is refused: no file written, no module created, no table', async () => {
    const name = `sbx_file_${tag}`
    const answer = await api<Answer>(daemon.url, 'POST', '/api/mv', view(name, `String) ENGINE = File(TSVRaw, '${pipelinesDir}/x.ts') --`))
    assert.equal(answer.status, 400, JSON.stringify(answer.body))
    assert.equal(answer.body.code, 'CONFIG_INVALID')
    assert.match(answer.body.error!, /^columns\[0\]\.type: /)
    assert.deepEqual(readdirSync(pipelinesDir), ['events.ts'])
    assert.equal(existsSync(path.join(pipelinesDir, 'x.ts')), false)
    assert.equal(await tables(`${name}_data`), 0)
    assert.equal((await api(daemon.url, 'GET', `/api/mv/${name}`)).status, 404)
  })

  test("a column type with DEFAULT file('/etc/hostname') is refused", async () => {
    const name = `sbx_default_${tag}`
    const answer = await api<Answer>(daemon.url, 'POST', '/api/mv', view(name, "String DEFAULT file('/etc/hostname')"))
    assert.equal(answer.status, 400, JSON.stringify(answer.body))
    assert.match(answer.body.error!, /^columns\[0\]\.type: .*unexpected text after the type/)
    assert.equal(await tables(`${name}_data`), 0)
  })
})

describe('/api/sql runs in the sandbox', () => {
  const refused = async (query: string) => {
    const answer = await runSql(query)
    assert.equal(answer.status, 400, `${query}: ${JSON.stringify(answer.body)}`)
    assert.equal(answer.body.code, 'QUERY_REJECTED')
    assert.equal(answer.body.rows, undefined)
    return answer.body.error!
  }

  test("file('/etc/passwd') returns no host data", async () => {
    const error = await refused("SELECT file('/etc/passwd') AS f")
    assert.doesNotMatch(error, /root:/)
    assert.match(error, /function file\(\) is not allowed/)
  })

  test("file('/proc/self/environ') returns none of the daemon's environment", async () => {
    const error = await refused("SELECT file('/proc/self/environ') AS f")
    assert.doesNotMatch(error, /FLOWHOUSE_SQL_MAX_SECONDS=|PATH=/)
  })

  test('INTO OUTFILE creates no file, with TRUNCATE or APPEND either', async () => {
    for (const [i, tail] of ['', ' TRUNCATE', ' APPEND'].entries()) {
      const target = path.join(dir, `out${i}.tsv`)
      await refused(`SELECT 1 INTO OUTFILE '${target}'${tail}`)
      assert.equal(existsSync(target), false, target)
    }
  })

  test("KILL QUERY cannot cancel the daemon's own inserts", async () => {
    const error = await refused("KILL QUERY WHERE query ILIKE 'INSERT%'")
    assert.match(error, /only a SELECT .* is allowed \(got KILL\)/)
  })

  test('SYSTEM statements, SETTINGS clauses and unlisted system tables are refused', async () => {
    await refused('SYSTEM FLUSH LOGS')
    await refused('SELECT 1 SETTINGS max_execution_time = 3600')
    await refused('SELECT * FROM system.settings')
    await refused('SELECT * FROM system.grants')
  })

  test('a table function is refused; numbers(1e12) never starts', async () => {
    const error = await refused('SELECT count() FROM numbers(1e12)')
    assert.match(error, /table function numbers\(\) is not allowed/)
  })

  test('a query that would run for minutes over system.numbers is stopped by FLOWHOUSE_SQL_MAX_SECONDS', async () => {
    const started = Date.now()
    const error = await refused('SELECT count() FROM system.numbers WHERE number % 7 = 100')
    assert.match(error, /FLOWHOUSE_SQL_MAX_SECONDS/)
    assert.ok(Date.now() - started < 10_000, `answered after ${Date.now() - started} ms`)
  })

  test('a 1e7-row answer is refused by the result limit', async () => {
    const error = await refused('SELECT number FROM system.numbers LIMIT 10000000')
    assert.match(error, /FLOWHOUSE_SQL_MAX_RESULT_ROWS/)
  })

  // chDB keeps the rows a SELECT stopped by max_result_rows produced and answers them to the next
  // query on the same session (65,410 rows of `number` instead of `one`): the sandbox replaces it.
  test('after a query stopped by the result limit, the next query answers its own rows', async () => {
    for (let i = 0; i < 5; i++) {
      assert.match(await refused('SELECT number FROM system.numbers LIMIT 10000000'), /FLOWHOUSE_SQL_MAX_RESULT_ROWS/)
      const next = await runSql('SELECT 1 AS one')
      assert.equal(next.status, 200)
      assert.deepEqual(next.body.rows, [{ one: 1 }], `round ${i}: ${JSON.stringify(next.body.rows).slice(0, 200)}`)
    }
  })

  test('a slow query does not block another reader', async () => {
    const slow = runSql('SELECT count() FROM system.numbers WHERE number % 7 = 100')
    await new Promise((resolve) => setTimeout(resolve, 300))
    const started = Date.now()
    const fast = await runSql('SELECT 1 AS one')
    const took = Date.now() - started
    assert.equal(fast.status, 200)
    assert.deepEqual(fast.body.rows, [{ one: 1 }])
    assert.ok(took < 1_500, `the second reader waited ${took} ms`)
    assert.equal((await slow).status, 400)
  })

  test('beyond the sessions and the queue a query answers 503 QUERY_QUEUE_FULL', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => runSql('SELECT count() FROM system.numbers WHERE number % 7 = 100')))
    const statuses = answers.map((a) => a.status).sort()
    assert.deepEqual(statuses, [400, 400, 400, 400, 503, 503], JSON.stringify(answers.map((a) => a.body.code)))
    assert.equal(answers.find((a) => a.status === 503)!.body.code, 'QUERY_QUEUE_FULL')
  })

  test("flowhouse's tables, allowed system tables, SHOW, DESCRIBE and EXPLAIN still answer", async () => {
    assert.deepEqual((await runSql(`SELECT count() AS n FROM ${PIPELINE}`)).body.rows, [{ n: 0 }])
    assert.equal((await runSql(`SELECT name FROM system.tables WHERE database = currentDatabase() AND name = '${PIPELINE}'`)).body.rows!.length, 1)
    assert.equal((await runSql('SHOW TABLES')).status, 200)
    assert.equal((await runSql(`DESCRIBE ${PIPELINE}`)).body.rows!.length, 3)
    assert.equal((await runSql(`EXPLAIN SELECT kind, count() FROM ${PIPELINE} GROUP BY kind`)).status, 200)
  })
})

describe('API views run their SELECT through the sandbox', () => {
  const sqlView = (name: string, select: string) => ({ name, source_table: PIPELINE, engine: 'MergeTree', order_by: ['line'], select_query: select })

  test("url('http://127.0.0.1:<port>/api/pipelines') in select_query is refused before any DDL", async () => {
    const name = `sbx_url_${tag}`
    const answer = await api<Answer>(daemon.url, 'POST', '/api/mv', sqlView(name, `SELECT line FROM {source_table} AS s CROSS JOIN url('${daemon.url}/api/pipelines', 'LineAsString') AS u`))
    assert.equal(answer.status, 400, JSON.stringify(answer.body))
    assert.equal(answer.body.code, 'QUERY_REJECTED')
    assert.match(answer.body.error!, /table function url\(\) is not allowed/)
    assert.equal(await tables(name), 0)
    assert.equal(await tables(`${name}_data`), 0)
  })

  test('file() in select_query is refused', async () => {
    const answer = await api<Answer>(daemon.url, 'POST', '/api/mv', sqlView(`sbx_f_${tag}`, "SELECT file('/etc/passwd') AS line FROM {source_table}"))
    assert.equal(answer.status, 400, JSON.stringify(answer.body))
    assert.equal(answer.body.code, 'QUERY_REJECTED')
  })

  test("a declarative view's filter and group_by expressions are judged too", async () => {
    const base = { name: `sbx_decl_${tag}`, source_table: PIPELINE, compute: { c: { count: '*' } } }
    const filter = await api<Answer>(daemon.url, 'POST', '/api/mv', { ...base, group_by: ['kind'], filter: "file('/etc/passwd') != ''" })
    assert.equal(filter.status, 400, JSON.stringify(filter.body))
    const groupBy = await api<Answer>(daemon.url, 'POST', '/api/mv', { ...base, group_by: [{ k: "getSetting('readonly')" }] })
    assert.equal(groupBy.status, 400, JSON.stringify(groupBy.body))
    assert.equal(await tables(`sbx_decl_${tag}_state`), 0)
  })

  test('a view reading only its source is still created', async () => {
    const name = `sbx_ok_${tag}`
    const answer = await api<Answer>(daemon.url, 'POST', '/api/mv', { name, source_table: PIPELINE, engine: 'SummingMergeTree', order_by: ['kind'], select_query: 'SELECT kind, sum(n) AS total FROM {source_table} GROUP BY kind' })
    assert.equal(answer.status, 201, JSON.stringify(answer.body))
    assert.equal((await api(daemon.url, 'DELETE', `/api/mv/${name}`)).status, 200)
  })

  test("a module's view cannot be dropped through the API: 409 naming the module, and it stays", async () => {
    const answer = await api<Answer>(daemon.url, 'DELETE', `/api/mv/${MODULE_VIEW}`)
    assert.equal(answer.status, 409, JSON.stringify(answer.body))
    assert.equal(answer.body.code, 'VIEW_CONFLICT')
    assert.match(answer.body.error!, /declared by the module .*events\.ts/)
    assert.equal(await tables(MODULE_VIEW), 1)
    assert.equal(await tables(`${MODULE_VIEW}_data`), 1)
  })
})

describe('constraint configs are bounded before they are stored', () => {
  const put = (config: unknown) => api<Answer>(daemon.url, 'PUT', `/api/constraints/${PIPELINE}/rate/config`, { config })
  const ingest = () => fetch(`${daemon.url}/ingest/${PIPELINE}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ id: randomBytes(4).toString('hex'), kind: 'a', n: 1 }]) })

  test('max_events_per_second 1e308 and 0.000001 and group_by __proto__ are refused, and ingest keeps answering 2xx', async () => {
    for (const config of [{ max_events_per_second: 1e308 }, { max_events_per_second: 0.000001 }, { group_by: ['__proto__'] }, { group_by: ['not_a_field'] }]) {
      const answer = await put(config)
      assert.equal(answer.status, 400, `${JSON.stringify(config)}: ${JSON.stringify(answer.body)}`)
    }
    const status = await api<{ config: unknown }>(daemon.url, 'GET', `/api/constraints/${PIPELINE}/rate`)
    assert.deepEqual(status.body.config, { max_events_per_second: 1000, group_by: ['kind'] })
    const res = await ingest()
    assert.ok(res.status < 300, `ingest answered ${res.status}: ${await res.text()}`)
    await waitFor(async () => Number((await sql<{ n: number }>(daemon.url, `SELECT count() AS n FROM ${PIPELINE}`))[0]!.n) >= 1, { timeoutMs: 30_000, what: 'the ingested row' })
  })
})
