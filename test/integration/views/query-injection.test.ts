/**
 * The query helper over HTTP against a daemon with real flights: injection attempts through
 * `filter`, `order_by`, `select`, `group_by`, `having` and the view name are refused with
 * QueryError (HTTP 400) before reaching ClickHouse and change nothing; legitimate filters work and
 * match the ground truth; values that look like SQL travel as bound parameters and match nothing.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { FLIGHTS_PARQUET, ROOT, flightsSource, removeDir, resetKafka, runReplay, sql, startDaemon, tempDir, truth, waitFor, type DaemonProcess } from '../helpers.ts'
import { api } from './helpers.ts'

const N = 50_000
const VIEW = 'flights_daily_delays_mv'
let daemon: DaemonProcess
let dataDir: string

before(async () => {
  await resetKafka(['flights', 'flights.dlq'], ['flowhouse.flights'])
  dataDir = await tempDir('mv-query')
  daemon = await startDaemon({ pipelinesDir: path.join(ROOT, 'pipelines'), dataDir, env: { FLOWHOUSE_BATCH_FLUSH_MS: '300' } })
  const { code, output } = await runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--limit', String(N)]).done
  assert.equal(code, 0, output)
  await waitFor(async () => Number((await sql<{ n: string }>(daemon.url, 'SELECT count() AS n FROM flights'))[0]!.n) === N, { timeoutMs: 120_000, what: `${N} flights` })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dataDir) await removeDir(dataDir)
})

type Answer = { rows?: Array<Record<string, unknown>>; error?: string; code?: string; sql?: string; params?: Record<string, string> }
const query = (body: unknown, view = VIEW) => api<Answer>(daemon.url, 'POST', `/api/mv/${encodeURIComponent(view)}/query`, body)

describe('injection attempts are refused with QueryError', () => {
  const attempts: Array<[string, Record<string, unknown>]> = [
    ['a second statement in filter', { filter: "origin = 'SFO'; DROP TABLE flights" }],
    ['a comment cutting the filter', { filter: "origin = 'SFO' -- AND day > '2001-01-01'" }],
    ['a block comment', { filter: "origin = 'SFO' /* x */" }],
    ['a subquery in filter', { filter: 'origin IN (SELECT name FROM system.tables)' }],
    ['UNION in filter', { filter: "origin = 'x' UNION ALL SELECT name FROM system.users" }],
    ['a function outside the allowlist', { filter: 'sleep(3) = 0' }],
    ['a table function', { filter: "origin IN file('/etc/passwd')" }],
    ['a column that is not in the view', { filter: 'password = 1' }],
    ['a quoted identifier', { filter: "`origin` = 'SFO'" }],
    ['a query parameter placeholder', { filter: 'origin = {x:String}' }],
    ['SETTINGS in filter', { filter: "origin = 'SFO' SETTINGS readonly = 0" }],
    ['a second statement in order_by', { order_by: 'origin; DROP TABLE flights' }],
    ['a subquery in order_by', { order_by: '(SELECT 1)' }],
    ['LIMIT smuggled in order_by', { order_by: 'origin DESC LIMIT 1' }],
    ['a subquery inside a function in order_by', { order_by: 'if((SELECT count() FROM system.tables) > 0, 1, 0)' }],
    ['FROM smuggled in a select item', { select: ['origin FROM system.users --'] }],
    ['a subquery in select', { select: ['*, (SELECT 1)'] }],
    ['a quoted identifier in group_by', { select: ['origin'], group_by: ['origin`, `day'] }],
    ['an unknown column as a structured-filter key', { filter: { "origin = 'x' OR 1=1 --": 'a' } }],
    ['an unknown condition in a structured filter', { filter: { origin: { $where: '1=1' } } }],
    ['a subquery in having', { select: ['origin', 'sum(flights) AS f'], group_by: ['origin'], having: 'f > (SELECT 0)' }],
    ['an aggregate in filter', { filter: 'sum(flights) > 0' }],
    ['a select alias shadowing a filtered column', { select: ['sum(flights) AS flights'], filter: 'flights > 0' }],
    ['an unknown field', { filter: "origin = 'SFO'", format: 'TabSeparated' }],
    ['a limit out of range', { limit: 10_000_000 }],
  ]
  for (const [what, body] of attempts) {
    test(`${what} is refused`, async () => {
      const answer = await query(body)
      assert.equal(answer.status, 400, JSON.stringify(answer.body))
      assert.equal(answer.body.code, 'QUERY_REJECTED')
      assert.equal(answer.body.rows, undefined)
    })
  }

  test('a view name that is not a view answers 404 ViewNotFoundError', async () => {
    const answer = await query({}, "flights_daily_delays_mv; DROP TABLE flights")
    assert.equal(answer.status, 404)
    assert.equal(answer.body.code, 'VIEW_NOT_FOUND')
  })

  test('after every attempt the source table and the view are intact', async () => {
    const [row] = await sql<{ n: string }>(daemon.url, 'SELECT count() AS n FROM flights')
    assert.equal(Number(row!.n), N)
    const [view] = await sql<{ flights: string }>(daemon.url, 'SELECT sum(flights) AS flights FROM flights_daily_delays')
    assert.equal(Number(view!.flights), N)
  })
})

describe('legitimate queries work and match the ground truth', () => {
  test('a free-form filter with a string and a date, grouped and ordered', async () => {
    const answer = await query({
      select: ['day', 'sum(flights) AS flights', 'sum(total_delay) AS total_delay'],
      filter: "origin = 'SFO' AND day >= '2001-01-02' AND NOT (day BETWEEN '2001-01-03' AND '2001-01-03')",
      group_by: ['day'],
      order_by: 'day ASC',
      limit: 1000,
    })
    assert.equal(answer.status, 200, answer.body.error)
    assert.deepEqual(answer.body.params, { p0: 'SFO', p1: '2001-01-02', p2: '2001-01-03', p3: '2001-01-03' }, 'values travel as bound parameters')
    assert.ok(!answer.body.sql!.includes('SFO'), 'no value is in the SQL text')
    const expected = await truth<{ day: string; flights: number; total_delay: number }>(
      `SELECT toString(toDate(date)) AS day, count() AS flights, sum(delay) AS total_delay FROM ${flightsSource(N)}
       WHERE origin = 'SFO' AND toDate(date) >= '2001-01-02' AND NOT (toDate(date) BETWEEN '2001-01-03' AND '2001-01-03') GROUP BY day ORDER BY day`,
    )
    assert.equal(expected.length, 2, 'two days of the first 50,000 flights pass the filter')
    assert.deepEqual(
      answer.body.rows!.map((r) => [r.day, Number(r.flights), Number(r.total_delay)]),
      expected.map((r) => [r.day, Number(r.flights), Number(r.total_delay)]),
    )
  })

  test('having and order_by over select aliases, with IN and a limit', async () => {
    const answer = await query({
      select: ['origin', 'sum(flights) AS flights'],
      filter: "origin IN ('LAX', 'SFO', 'ORD', 'DEN', 'ATL')",
      group_by: 'origin',
      having: 'flights > 100',
      order_by: ['flights DESC', 'origin'],
      limit: 3,
    })
    assert.equal(answer.status, 200, answer.body.error)
    const expected = await truth<{ origin: string; flights: number }>(
      `SELECT origin, count() AS flights FROM ${flightsSource(N)} WHERE origin IN ('LAX', 'SFO', 'ORD', 'DEN', 'ATL') GROUP BY origin HAVING flights > 100 ORDER BY flights DESC, origin LIMIT 3`,
    )
    assert.deepEqual(answer.body.rows!.map((r) => [r.origin, Number(r.flights)]), expected.map((r) => [r.origin, Number(r.flights)]))
  })

  test('a structured filter binds its values', async () => {
    const answer = await query({ select: ['sum(flights) AS total'], filter: { origin: 'LAX', flights: { gte: 1 }, day: { between: ['2001-01-01', '2001-01-02'] } } })
    assert.equal(answer.status, 200, answer.body.error)
    assert.deepEqual(answer.body.params, { p0: 'LAX', p1: '1', p2: '2001-01-01', p3: '2001-01-02' })
    const [expected] = await truth<{ flights: number }>(`SELECT count() AS flights FROM ${flightsSource(N)} WHERE origin = 'LAX' AND toDate(date) BETWEEN '2001-01-01' AND '2001-01-02'`)
    assert.equal(Number(answer.body.rows![0]!.total), Number(expected!.flights))
  })

  test('a value that looks like SQL is only a value', async () => {
    const answer = await query({ filter: "origin = 'x'' OR ''1''=''1'" })
    assert.equal(answer.status, 200, answer.body.error)
    assert.deepEqual(answer.body.rows, [])
    assert.equal(answer.body.params!.p0, "x' OR '1'='1")
  })
})

/** Runs `flowhouse mv ...` against the daemon; resolves with the exit code and output. */
function mv(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    let out = ''
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), 'mv', ...args, '--url', daemon.url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.once('exit', (code) => resolve({ code, out }))
  })
}

describe('flowhouse mv mirrors the API', () => {
  test('create, list, status, query, refresh, backfill and drop from the command line', { timeout: 120_000 }, async () => {
    const create = await mv(['create', '--name', 'cli_origin', '--source', 'flights', '--engine', 'SummingMergeTree', '--order-by', 'origin', '--query', 'SELECT origin, count() AS flights FROM {source_table} GROUP BY origin'])
    assert.equal(create.code, 0, create.out)
    assert.equal(JSON.parse(create.out).name, 'cli_origin')
    const status = await mv(['status', 'cli_origin', '--watch', '--format', 'json'])
    assert.equal(status.code, 0, status.out)
    assert.match(status.out, /cli_origin: completed 100%/)
    const list = await mv(['list', '--format', 'json'])
    assert.ok((JSON.parse(list.out) as Array<{ name: string }>).some((v) => v.name === 'cli_origin'))
    const rows = await mv(['query', 'cli_origin', '--select', 'sum(flights) AS total', '--filter', "origin != 'SFO'", '--format', 'json'])
    assert.equal(rows.code, 0, rows.out)
    const [expected] = await truth<{ n: number }>(`SELECT count() AS n FROM ${flightsSource(N)} WHERE origin != 'SFO'`)
    assert.equal(Number((JSON.parse(rows.out) as Array<{ total: string }>)[0]!.total), Number(expected!.n))
    const refused = await mv(['query', 'cli_origin', '--filter', "origin = 'SFO'; DROP TABLE flights"])
    assert.equal(refused.code, 1)
    assert.match(refused.out, /';' is not allowed.*\[QUERY_REJECTED\]/)
    const again = await mv(['backfill', 'cli_origin'])
    assert.equal(again.code, 1)
    assert.match(again.out, /already backfilled/)
    const refresh = await mv(['refresh', 'cli_origin'])
    assert.equal(refresh.code, 0, refresh.out)
    assert.equal(JSON.parse(refresh.out).kind, 'none')
    const drop = await mv(['drop', 'cli_origin'])
    assert.equal(drop.code, 0, drop.out)
    assert.deepEqual(JSON.parse(drop.out).dropped, ['cli_origin', 'cli_origin_data'])
    const gone = await mv(['status', 'cli_origin'])
    assert.equal(gone.code, 1)
    assert.match(gone.out, /materialized view "cli_origin" does not exist/)
  })
})
