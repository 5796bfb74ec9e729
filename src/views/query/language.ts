/**
 * Vocabulary of the view query language (DESIGN.md "Materialized views": query helper with bound
 * parameters): the expression tree the parser produces and the builder emits, the allowlisted
 * functions, the INTERVAL units and the SQL words refused inside an expression. Data only: the
 * grammar is in parser.ts, the SQL text in builder.ts.
 */

/**
 * One node of a parsed expression. `lit` values are the literal's text, bound later as a
 * parameter of `type`; `const` is one of the three keywords emitted as they are.
 */
export type Expr =
  | { k: 'col'; name: string }
  | { k: 'lit'; value: string; type: 'String' | 'Int64' | 'UInt64' | 'Float64' }
  | { k: 'const'; text: 'NULL' | 'true' | 'false' }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'not'; e: Expr }
  | { k: 'neg'; e: Expr }
  | { k: 'fn'; name: string; args: Expr[]; star: boolean }
  | { k: 'in'; e: Expr; list: Expr[]; neg: boolean }
  | { k: 'between'; e: Expr; lo: Expr; hi: Expr; neg: boolean }
  | { k: 'isnull'; e: Expr; neg: boolean }
  | { k: 'like'; e: Expr; pattern: Expr; neg: boolean; ci: boolean }
  | { k: 'interval'; e: Expr; unit: string }

/** A function the language accepts: its ClickHouse name and whether it aggregates. */
export interface FunctionSpec {
  name: string
  aggregate: boolean
}

const AGGREGATES = [
  'count', 'sum', 'avg', 'min', 'max', 'any', 'anyLast', 'uniq', 'uniqExact', 'median', 'argMin', 'argMax',
  'countIf', 'sumIf', 'avgIf', 'minIf', 'maxIf', 'uniqIf', 'uniqExactIf',
  'stddevPop', 'stddevSamp', 'varPop', 'varSamp',
  'countMerge', 'sumMerge', 'avgMerge', 'minMerge', 'maxMerge', 'anyMerge', 'uniqMerge', 'uniqExactMerge', 'argMinMerge', 'argMaxMerge',
  'stddevPopMerge', 'varPopMerge', 'stddevSampMerge', 'varSampMerge',
]
const SCALARS = [
  'toDate', 'toDateTime', 'toStartOfMinute', 'toStartOfHour', 'toStartOfDay', 'toStartOfWeek', 'toStartOfMonth', 'toStartOfQuarter', 'toStartOfYear',
  'toYear', 'toMonth', 'toDayOfMonth', 'toDayOfWeek', 'toHour', 'toMinute', 'toYYYYMM', 'toYYYYMMDD', 'dateTrunc', 'dateDiff', 'now', 'today', 'yesterday',
  'lower', 'upper', 'length', 'concat', 'substring', 'startsWith', 'endsWith', 'position', 'trim', 'empty', 'notEmpty',
  'abs', 'round', 'floor', 'ceil', 'intDiv', 'greatest', 'least', 'sqrt', 'log', 'exp', 'pow',
  'coalesce', 'ifNull', 'nullIf', 'if', 'isNull', 'isNotNull',
  'toString', 'toInt32', 'toInt64', 'toUInt32', 'toUInt64', 'toFloat64',
]

/** Allowed functions by lower-case name (ClickHouse's own spelling is emitted). `date_trunc` is an alias of dateTrunc. */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map([
  ...AGGREGATES.map((name): [string, FunctionSpec] => [name.toLowerCase(), { name, aggregate: true }]),
  ...SCALARS.map((name): [string, FunctionSpec] => [name.toLowerCase(), { name, aggregate: false }]),
  ['date_trunc', { name: 'dateTrunc', aggregate: false }],
])

/** Units accepted after `INTERVAL <n>`, upper-case. */
export const INTERVAL_UNITS = new Set(['SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'])
/** SQL words that never belong in an expression; named in the error so the refusal is clear. */
export const FORBIDDEN = new Set([
  'SELECT', 'FROM', 'WHERE', 'UNION', 'INSERT', 'INTO', 'DROP', 'ALTER', 'CREATE', 'DELETE', 'UPDATE', 'TRUNCATE', 'RENAME', 'ATTACH', 'DETACH',
  'OPTIMIZE', 'SYSTEM', 'KILL', 'GRANT', 'REVOKE', 'SETTINGS', 'FORMAT', 'WITH', 'JOIN', 'LIMIT', 'OFFSET', 'HAVING', 'GROUP', 'ORDER', 'EXCEPT', 'INTERSECT', 'ARRAY', 'SET', 'USE', 'SHOW', 'DESCRIBE', 'EXISTS', 'CASE',
])
