import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bindParamsInline, normalizeSelect, splitStatements } from '../../../src/clickhouse/sqltext.ts'
import { sqlString } from '../../../src/clickhouse/sql.ts'

describe('splitStatements', () => {
  it('splits on top-level semicolons only', () => {
    assert.deepEqual(splitStatements("SELECT ';' AS a, `x;y` FROM t -- ; comment\n; DROP TABLE t"), ["SELECT ';' AS a, `x;y` FROM t -- ; comment", 'DROP TABLE t'])
  })

  it('ignores trailing semicolons, blank and comment-only statements', () => {
    assert.deepEqual(splitStatements('SELECT 1;;  \n /* nothing */ ;'), ['SELECT 1'])
    assert.deepEqual(splitStatements(' -- only a comment'), [])
  })

  it("handles escaped quotes: 'it\\'s' and 'it''s'", () => {
    assert.deepEqual(splitStatements("SELECT 'it\\'s;', 'it''s;'"), ["SELECT 'it\\'s;', 'it''s;'"])
  })
})

describe('bindParamsInline', () => {
  it('replaces placeholders with typed literals, leaving strings and comments alone', () => {
    assert.equal(
      bindParamsInline("SELECT * FROM t WHERE origin = {o:String} AND delay > {d: Int32} AND note = '{o:String}' -- {o:String}", { o: "O'Hare", d: 5 }),
      "SELECT * FROM t WHERE origin = CAST('O\\'Hare' AS String) AND delay > CAST(5 AS Int32) AND note = '{o:String}' -- {o:String}",
    )
  })

  it('binds arrays, NULL, dates and identifiers', () => {
    assert.equal(
      bindParamsInline('SELECT {a:Array(UInt8)}, {n:Nullable(String)}, {d:Date}, {t:DateTime}, count() FROM {tbl:Identifier}', {
        a: [1, 2],
        n: null,
        d: new Date('2001-01-02T03:04:05Z'),
        t: new Date('2001-01-01T00:01:00Z'),
        tbl: 'flights',
      }),
      "SELECT CAST([1, 2] AS Array(UInt8)), CAST(NULL AS Nullable(String)), CAST('2001-01-02' AS Date), CAST(978307260 AS DateTime), count() FROM `flights`",
    )
  })

  it('refuses a missing parameter with its name', () => {
    assert.throws(() => bindParamsInline('SELECT {x:UInt8}', {}), { code: 'BAD_REQUEST', message: 'query parameter "x": no value given' })
  })
})

describe('normalizeSelect', () => {
  it('equates a SELECT with the text ClickHouse stores for it', () => {
    const declared = 'select origin, count() as n\n  from flights GROUP BY origin;'
    const stored = 'SELECT origin, count() AS n FROM default.flights  GROUP BY origin'
    assert.equal(normalizeSelect(declared, 'default'), normalizeSelect(stored, 'default'))
    assert.equal(normalizeSelect('SELECT `a` FROM `default`.`t`', 'default'), 'select a from t')
  })

  it('keeps string literals as written', () => {
    assert.notEqual(normalizeSelect("SELECT 'A'", 'default'), normalizeSelect("SELECT 'a'", 'default'))
  })
})

describe('sqlString', () => {
  it('escapes backslashes, quotes and control characters', () => {
    assert.equal(sqlString("a'b\\c\nd"), "'a\\'b\\\\c\\nd'")
  })
})
