import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { QueryError } from '../../../src/errors.ts'
import { buildViewQuery, type ViewQueryRequest } from '../../../src/views/query/builder.ts'

const columns = ['origin', 'day', 'flights', 'total_delay', 'first']
const limits = { defaultLimit: 1000, maxLimit: 100_000 }
const build = (request: ViewQueryRequest) => buildViewQuery('daily', 'db', 'daily_data', columns, request, limits)

describe('the query helper builds SQL from parsed expressions', () => {
  test('defaults: every column, the default limit', () => {
    assert.deepEqual(build({}), { sql: 'SELECT * FROM `db`.`daily_data` LIMIT 1000', params: {} })
  })

  test('every part, with values as bound parameters', () => {
    assert.deepEqual(
      build({
        select: ['origin', 'sum(flights) AS total'],
        filter: "origin != 'SFO' AND day BETWEEN '2001-01-01' AND '2001-01-31' AND flights >= 10",
        group_by: ['origin'],
        having: 'total > 1000',
        order_by: 'total DESC, origin',
        limit: 5,
        offset: 10,
      }),
      {
        sql: 'SELECT `origin`, sum(`flights`) AS `total` FROM `db`.`daily_data` WHERE (((`origin` != {p0:String}) AND (`day` BETWEEN {p1:String} AND {p2:String})) AND (`flights` >= {p3:Int64})) GROUP BY `origin` HAVING (`total` > {p4:Int64}) ORDER BY `total` DESC, `origin` ASC LIMIT 5 OFFSET 10',
        params: { p0: 'SFO', p1: '2001-01-01', p2: '2001-01-31', p3: '10', p4: '1000' },
      },
    )
  })

  test('literals of every kind, IN lists, IS NULL, LIKE, intervals and negative numbers', () => {
    const { sql, params } = build({ filter: "origin IN ('SFO', 'LAX') AND origin NOT LIKE 'J%' AND day IS NOT NULL AND flights > -1.5 AND day >= today() - INTERVAL 7 DAY OR NOT first" })
    assert.equal(
      sql,
      'SELECT * FROM `db`.`daily_data` WHERE ((((((`origin` IN ({p0:String}, {p1:String})) AND (`origin` NOT LIKE {p2:String})) AND (`day` IS NOT NULL)) AND (`flights` > {p3:Float64})) AND (`day` >= (today() - toIntervalDay({p4:Int64})))) OR (NOT `first`)) LIMIT 1000',
    )
    assert.deepEqual(params, { p0: 'SFO', p1: 'LAX', p2: 'J%', p3: '-1.5', p4: '7' })
  })

  test('function names are case-insensitive and emitted in ClickHouse spelling; date_trunc is dateTrunc', () => {
    assert.equal(build({ select: "COUNT(*) AS n, DATE_TRUNC('month', day) AS m", group_by: 'm' }).sql, 'SELECT count() AS `n`, dateTrunc({p0:String}, `day`) AS `m` FROM `db`.`daily_data` GROUP BY `m` LIMIT 1000')
  })

  test('string escapes become the value, never SQL', () => {
    assert.deepEqual(build({ filter: "origin = 'x'' OR ''1''=''1' OR origin = 'a\\'b'" }).params, { p0: "x' OR '1'='1", p1: "a'b" })
  })

  test('a structured filter', () => {
    assert.deepEqual(build({ filter: { origin: 'SFO', flights: { $gt: 5, lte: 10 }, day: { between: ['2001-01-01', '2001-01-02'] }, first: null, total_delay: { in: [1, 2] } } }), {
      sql: 'SELECT * FROM `db`.`daily_data` WHERE ((((((`origin` = {p0:String}) AND (`flights` > {p1:Int64})) AND (`flights` <= {p2:Int64})) AND (`day` BETWEEN {p3:String} AND {p4:String})) AND (`first` IS NULL)) AND (`total_delay` IN ({p5:Int64}, {p6:Int64}))) LIMIT 1000',
      params: { p0: 'SFO', p1: '5', p2: '10', p3: '2001-01-01', p4: '2001-01-02', p5: '1', p6: '2' },
    })
  })

  test('a column named like a keyword is still a column', () => {
    assert.equal(build({ order_by: 'first DESC NULLS LAST' }).sql, 'SELECT * FROM `db`.`daily_data` ORDER BY `first` DESC NULLS LAST LIMIT 1000')
  })
})

describe('injection attempts fail with QueryError', () => {
  const refused: Array<[string, ViewQueryRequest, string]> = [
    ['a second statement', { filter: "origin = 'SFO'; DROP TABLE flights" }, `view "daily": filter: ';' is not allowed: send one expression, not statements (at character 15)`],
    ['a line comment', { filter: "origin = 'SFO' --" }, 'view "daily": filter: comments are not allowed (at character 16)'],
    ['a block comment', { order_by: 'origin /* */' }, 'view "daily": order_by: comments are not allowed (at character 8)'],
    ['a subquery', { filter: 'origin IN (SELECT name FROM system.tables)' }, 'view "daily": filter: subqueries are not allowed (at character 12)'],
    ['a subquery in parentheses', { order_by: '(SELECT 1)' }, 'view "daily": order_by: subqueries are not allowed (at character 2)'],
    ['UNION', { filter: "origin = 'x' UNION ALL SELECT 1" }, 'view "daily": filter: unexpected "UNION" (at character 14)'],
    ['a function outside the allowlist', { filter: 'sleep(3) = 0' }, 'view "daily": filter: function sleep() is not allowed (at character 1)'],
    ['a table function', { select: "file('/etc/passwd')" }, 'view "daily": select: function file() is not allowed (at character 1)'],
    ['an unknown column', { filter: 'password = 1' }, 'view "daily": filter: unknown column "password"; the view\'s columns are "origin", "day", "flights", "total_delay", "first" (at character 1)'],
    ['a keyword as identifier', { select: 'origin FROM system.users' }, 'view "daily": select: unexpected "FROM" (at character 8)'],
    ['SETTINGS', { filter: "origin = 'x' SETTINGS readonly = 0" }, 'view "daily": filter: unexpected "SETTINGS" (at character 14)'],
    ['a quoted identifier', { group_by: '`origin`' }, 'view "daily": group_by: quoted identifiers are not allowed: use the plain column names of the view (at character 1)'],
    ['a double-quoted identifier', { filter: '"origin" = 1' }, 'view "daily": filter: quoted identifiers are not allowed: use the plain column names of the view (at character 1)'],
    ['a parameter placeholder', { filter: 'origin = {x:String}' }, 'view "daily": filter: character "{" is not allowed (at character 10)'],
    ['an unterminated string', { filter: "origin = 'SFO" }, 'view "daily": filter: unterminated string literal (at character 10)'],
    ['an aggregate in filter', { filter: 'sum(flights) > 0' }, 'view "daily": filter: aggregate function sum() is not allowed in filter (at character 1)'],
    ['a nested aggregate', { select: 'sum(count())' }, 'view "daily": select: aggregate function count() is not allowed in select (at character 5)'],
    ['LIMIT in order_by', { order_by: 'origin LIMIT 1' }, 'view "daily": order_by: unexpected "LIMIT" (at character 8)'],
    ['a qualified name', { filter: 'system.tables = 1' }, 'view "daily": filter: SQL keyword SYSTEM is not allowed here (at character 1)'],
    ['a dot after a column', { filter: 'origin.x = 1' }, 'view "daily": filter: unexpected "." (at character 7)'],
    ['an unknown field', { format: 'CSV' } as ViewQueryRequest, 'view "daily": request: unknown field(s) "format"; accepted: select, filter, group_by, having, order_by, limit, offset'],
    ['a limit out of range', { limit: 0 }, 'view "daily": limit: must be an integer from 1 to 100000 (got 0)'],
    ['a non-integer limit', { limit: '1; DROP' as never }, 'view "daily": limit: must be an integer from 1 to 100000 (got "1; DROP")'],
    ['an unknown structured condition', { filter: { origin: { $where: 'x' } } }, 'view "daily": filter: unknown condition "$where" on "origin"; use eq, ne, gt, gte, lt, lte, in, nin, like, ilike, between or is_null'],
    ['an object value', { filter: { origin: { eq: { $ne: 1 } } } }, 'view "daily": filter: the value for "origin" must be a string, a finite number, a boolean or null (got {"$ne":1})'],
    ['an alias hiding a filtered column', { select: 'sum(flights) AS flights', filter: 'flights > 1' }, 'view "daily": filter: the select alias "flights" hides the column "flights" that the filter uses (ClickHouse would filter on the alias); give the alias another name'],
  ]
  for (const [what, request, message] of refused) {
    test(`${what}`, () => {
      assert.throws(() => build(request), (error: unknown) => {
        assert.ok(error instanceof QueryError)
        assert.equal(error.code, 'QUERY_REJECTED')
        assert.equal(error.message, message)
        return true
      })
    })
  }

  test('aliases are visible to having and order_by, not to filter', () => {
    assert.doesNotThrow(() => build({ select: 'sum(flights) AS total', order_by: 'total' }))
    assert.throws(() => build({ select: 'sum(flights) AS total', filter: 'total > 1' }), QueryError)
  })

  test('a very deep expression is refused', () => {
    assert.throws(() => build({ filter: `${'('.repeat(100)}flights${')'.repeat(100)} > 1` }), { message: /nested too deeply/ })
  })
})
