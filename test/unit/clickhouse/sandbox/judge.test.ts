/**
 * The sandbox's tree reader and verdict, on trees ClickHouse 26.7 (chDB 3.4) printed for
 * `EXPLAIN AST <query>` (copied verbatim).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { AstReadError, readExplainAst } from '../../../../src/clickhouse/sandbox/ast.ts'
import { Refusal, judge } from '../../../../src/clickhouse/sandbox/judge.ts'
import { FunctionAllowlist, type FunctionRow } from '../../../../src/clickhouse/sandbox/policy.ts'

const row = (name: string, categories: string, extra: Partial<FunctionRow> = {}): FunctionRow => ({ name, is_aggregate: 0, case_insensitive: 0, alias_to: '', categories, ...extra })
const functions = new FunctionAllowlist([
  row('count', 'Aggregate Functions', { is_aggregate: 1, case_insensitive: 1 }),
  row('sum', 'Aggregate Functions', { is_aggregate: 1 }),
  row('equals', 'Comparison'),
  row('greater', 'Comparison'),
  row('in', 'Comparison'),
  row('notIn', 'Comparison'),
  row('plus', 'Arithmetic'),
  row('tuple', 'Tuple'),
  row('toDate', 'Dates and Times'),
  row('substr', '', { alias_to: 'substring' }),
  row('substring', 'String'),
  row('file', 'Other'),
  row('getSetting', 'Other'),
  row('dictGet', 'Dictionary'),
  row('currentDatabase', 'Other'),
])
const ctx = { database: 'fh', functions }

const tree = (lines: string[]) => readExplainAst(lines.join('\n') + '\n')
const refusedBy = (lines: string[], rule: Refusal['rule']) =>
  assert.throws(() => judge(tree(lines), ctx), (e: unknown) => e instanceof Refusal && e.rule === rule, lines.join('\n'))

const SELECT_FROM_T = [
  'SelectWithUnionQuery (children 1)',
  ' ExpressionList (children 1)',
  '  SelectQuery (children 4)',
  '   ExpressionList (children 2)',
  '    Identifier a',
  '    Function count (children 1)',
  '     ExpressionList',
  '   TablesInSelectQuery (children 1)',
  '    TablesInSelectQueryElement (children 1)',
  '     TableExpression (children 1)',
  '      TableIdentifier t',
  '   Function equals (children 1)',
  '    ExpressionList (children 2)',
  '     Identifier b',
  '     Literal UInt64_1',
  '   ExpressionList (children 1)',
  '    Identifier a',
]

const selectOf = (expr: string[], table = 'TableIdentifier t') => [
  'SelectWithUnionQuery (children 1)',
  ' ExpressionList (children 1)',
  '  SelectQuery (children 2)',
  `   ExpressionList (children ${expr.filter((l) => l.startsWith('    ') && !l.startsWith('     ')).length})`,
  ...expr,
  '   TablesInSelectQuery (children 1)',
  '    TablesInSelectQueryElement (children 1)',
  '     TableExpression (children 1)',
  `      ${table}`,
]

describe('EXPLAIN AST reader', () => {
  test('reads kinds, data, aliases and children', () => {
    const root = tree(SELECT_FROM_T)
    assert.equal(root.kind, 'SelectWithUnionQuery')
    const select = root.children[0]?.children[0]
    assert.equal(select?.kind, 'SelectQuery')
    assert.equal(select?.children.length, 4)
    assert.equal(select?.children[1]?.children[0]?.children[0]?.children[0]?.data, 't')
    assert.equal(tree(['Literal UInt64_1 (alias x)']).alias, 'x')
  })

  test('a child count that disagrees with the lines under it makes the parse unreadable', () => {
    assert.throws(() => tree(['SelectWithUnionQuery (children 2)', ' ExpressionList']), AstReadError)
    assert.throws(() => tree(['Literal UInt64_1', ' Function file (children 1)', '  ExpressionList']), AstReadError)
  })

  test('a backquoted alias holding a line break (a forged node line) makes the parse unreadable', () => {
    // EXPLAIN AST SELECT 1 AS `a\n    Function ok`
    assert.throws(
      () => tree(['SelectWithUnionQuery (children 1)', ' ExpressionList (children 1)', '  SelectQuery (children 1)', '   ExpressionList (children 1)', '    Literal UInt64_1 (alias a', '    Function ok)']),
      AstReadError,
    )
  })

  test('two statements are refused', () => {
    assert.throws(() => tree(['ShowTables', 'ShowTables']), /2 statements/)
  })
})

describe('sandbox verdict', () => {
  test('a SELECT over a flowhouse table with allowed functions passes', () => {
    judge(tree(SELECT_FROM_T), ctx)
    judge(tree(selectOf(['    Function COUNT (children 1)', '     ExpressionList (children 1)', '      Asterisk'])), ctx)
    judge(tree(selectOf(['    Function substr (children 1)', '     ExpressionList (children 1)', '      Identifier a'])), ctx)
    judge(tree(selectOf(['    Function sumIf (children 1)', '     ExpressionList (children 1)', '      Identifier a'], 'TableIdentifier fh.t (alias x)')), ctx)
    judge(tree(selectOf(['    Function countState (children 1)', '     ExpressionList'], 'TableIdentifier system.one')), ctx)
  })

  test("file('/etc/passwd') is refused as a function outside the allowlist", () => {
    refusedBy(['SelectWithUnionQuery (children 1)', ' ExpressionList (children 1)', '  SelectQuery (children 1)', '   ExpressionList (children 1)', '    Function file (children 1)', '     ExpressionList (children 1)', "      Literal '/etc/passwd'"], 'function')
  })

  test('settings, dictionaries and unknown functions are refused', () => {
    refusedBy(selectOf(['    Function getSetting (children 1)', '     ExpressionList (children 1)', "      Literal 'readonly'"]), 'function')
    refusedBy(selectOf(['    Function dictGet (children 1)', '     ExpressionList (children 1)', "      Literal 'd'"]), 'function')
    refusedBy(selectOf(['    Function somethingNew (children 1)', '     ExpressionList']), 'function')
    refusedBy(selectOf(['    Function fileIf (children 1)', '     ExpressionList']), 'function')
  })

  test('a table function (url, numbers) is refused', () => {
    refusedBy(selectOf(['    Asterisk'], "Function url (children 1)\n       ExpressionList (children 2)\n        Literal 'http://127.0.0.1:4000/api/pipelines'\n        Literal 'LineAsString'"), 'table-function')
  })

  test('INTO OUTFILE and FORMAT (extra children of the SELECT) are refused', () => {
    refusedBy(['SelectWithUnionQuery (children 2)', ' ExpressionList (children 1)', '  SelectQuery (children 1)', '   ExpressionList (children 1)', '    Literal UInt64_1', " Literal '/tmp/x'"], 'output')
    refusedBy(['SelectWithUnionQuery (children 2)', ' ExpressionList (children 1)', '  SelectQuery (children 1)', '   ExpressionList (children 1)', '    Literal UInt64_1', ' Identifier JSON'], 'output')
  })

  test('a SETTINGS clause is refused', () => {
    refusedBy(['SelectWithUnionQuery (children 1)', ' ExpressionList (children 1)', '  SelectQuery (children 2)', '   ExpressionList (children 1)', '    Literal UInt64_1', '   Set'], 'settings')
  })

  test('KILL, SYSTEM, INSERT and SHOW GRANTS are refused as statements', () => {
    refusedBy(['KillQueryQuery Literal_UInt64_1 ASYNC (children 1)', ' Literal UInt64_1'], 'statement')
    refusedBy(['SystemQuery'], 'statement')
    refusedBy(['InsertQuery'], 'statement')
    refusedBy(['ShowGrantsQuery'], 'statement')
    refusedBy(['ShowTables (children 1)', ' Identifier system'], 'statement')
  })

  test('tables outside flowhouse database and unlisted system tables are refused, also as IN operands', () => {
    refusedBy(selectOf(['    Asterisk'], 'TableIdentifier other.t'), 'table')
    refusedBy(selectOf(['    Asterisk'], 'TableIdentifier system.grants'), 'table')
    refusedBy(selectOf(['    Function in (children 1)', '     ExpressionList (children 2)', '      Identifier a', '      Identifier system.users']), 'table')
  })

  test('SHOW TABLES, DESCRIBE and EXPLAIN of a SELECT pass; EXPLAIN with settings does not', () => {
    judge(tree(['ShowTables']), ctx)
    judge(tree(['DescribeQuery (children 1)', ' TableExpression (children 1)', '  TableIdentifier t']), ctx)
    judge(tree(['Explain EXPLAIN (children 1)', ' SelectWithUnionQuery (children 1)', '  ExpressionList (children 1)', '   SelectQuery (children 1)', '    ExpressionList (children 1)', '     Literal UInt64_1']), ctx)
    refusedBy(['Explain EXPLAIN (children 2)', ' Set', ' SelectWithUnionQuery (children 1)', '  ExpressionList (children 1)', '   SelectQuery (children 1)', '    ExpressionList (children 1)', '     Literal UInt64_1'], 'settings')
    refusedBy(['DescribeQuery (children 1)', ' TableExpression (children 1)', '  Function file (children 1)', '   ExpressionList'], 'table-function')
  })
})
