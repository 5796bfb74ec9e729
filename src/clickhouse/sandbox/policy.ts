/**
 * What the SQL sandbox allows, as allowlists (anything not listed is refused):
 *
 * - statements: one SELECT (WITH, UNION, INTERSECT/EXCEPT, subqueries, JOINs, ARRAY JOIN, window
 *   functions), `SHOW TABLES` / `SHOW DATABASES`, `DESCRIBE <table | (SELECT ...)>`, `EXPLAIN [AST |
 *   SYNTAX | PLAN | PIPELINE | ESTIMATE] <SELECT>`;
 * - parse-tree nodes: NODE_KINDS (so no `SETTINGS` clause — the `Set` node —, no `INTO OUTFILE` or
 *   `FORMAT` — extra children of the SELECT —, no `KILL`, `SYSTEM`, DDL or `INSERT`);
 * - functions: those of ClickHouse's own catalogue (`system.functions` of the in-process engine)
 *   whose documentation category is in FUNCTION_CATEGORIES (pure computations on values), plus
 *   EXTRA_FUNCTIONS; aggregate functions with their combinators (`sumIf`, `countState`,
 *   `avgMerge` ...). Categories holding `file`, `url`, dictionaries, introspection, settings,
 *   `sleep` or AI calls (Other, Dictionary, Introspection, Internal, AI ...) are not listed;
 * - tables: no table functions; tables of flowhouse's database (unqualified, or qualified with
 *   it), and the `system` tables of SYSTEM_TABLES (no grants, users, settings, disks, processes,
 *   logs or stack traces).
 */

/** Documentation categories of `system.functions` whose functions compute on values only. */
export const FUNCTION_CATEGORIES: ReadonlySet<string> = new Set([
  'Aggregate Functions', 'Arithmetic', 'Arrays', 'Bit', 'Bitmap', 'Comparison', 'Conditional', 'Dates and Times', 'Distance',
  'Encoding', 'Geo', 'Hash', 'IP Address', 'JSON', 'Logical', 'Map', 'Mathematical', 'Null', 'Random Number', 'Rounding',
  'String', 'String Replacement', 'String Search', 'String Splitting', 'Time Window', 'Tuple', 'Type Conversion', 'URL', 'UUID',
])

/** Functions outside those categories that compute on values only (from `Other` and `Internal`), and the parser's own forms. */
export const EXTRA_FUNCTIONS: ReadonlySet<string> = new Set([
  'lambda', 'caseWithExpression', '_CAST', 'transform', 'toTypeName', 'toColumnTypeName', 'identity', 'ignore', 'materialize', 'isConstant',
  'formatReadableSize', 'formatReadableDecimalSize', 'formatReadableQuantity', 'formatReadableTimeDelta', 'parseReadableSize', 'parseReadableSizeOrNull',
  'parseReadableSizeOrZero', 'parseTimeDelta', 'bar', 'visibleWidth', 'byteSize', 'countDigits', 'isDecimalOverflow', 'finalizeAggregation',
  'runningDifference', 'runningDifferenceStartingWithFirstValue', 'runningAccumulate', 'neighbor', 'rowNumberInBlock', 'rowNumberInAllBlocks', 'blockSize',
  'defaultValueOfTypeName', 'defaultValueOfArgumentType', 'getSizeOfEnumType', 'currentDatabase', 'version',
])

/** Aggregate function combinators (ClickHouse "Aggregate function combinators"), longest first. */
export const COMBINATORS: readonly string[] = ['SimpleState', 'MergeState', 'OrDefault', 'Resample', 'Distinct', 'ForEach', 'ArgMin', 'ArgMax', 'OrNull', 'State', 'Merge', 'Array', 'Map', 'If']

/** `system` tables that describe flowhouse's data and the engine's catalogue and leak nothing else. */
export const SYSTEM_TABLES: ReadonlySet<string> = new Set([
  'one', 'numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'tables', 'columns', 'parts', 'databases', 'functions', 'aggregate_function_combinators',
  'data_type_families', 'table_engines', 'formats', 'time_zones', 'collations', 'build_options',
])

/** Parse-tree nodes a sandboxed query may contain. */
export const NODE_KINDS: ReadonlySet<string> = new Set([
  'SelectWithUnionQuery', 'SelectIntersectExceptQuery', 'SelectQuery', 'ExpressionList', 'Identifier', 'Literal', 'Function', 'Asterisk',
  'QualifiedAsterisk', 'ColumnsRegexpMatcher', 'ColumnsListMatcher', 'QualifiedColumnsRegexpMatcher', 'QualifiedColumnsListMatcher',
  'ColumnsTransformerList', 'ColumnsExceptTransformer', 'ColumnsReplaceTransformer', 'ColumnsReplaceTransformerReplacement',
  'TablesInSelectQuery', 'TablesInSelectQueryElement', 'TableExpression', 'TableIdentifier', 'TableJoin', 'ArrayJoin', 'Subquery', 'WithElement',
  'OrderByElement', 'WindowDefinition', 'WindowListElement', 'SampleRatio', 'InterpolateElement', 'Interpolate',
  'ShowTables', 'DescribeQuery', 'Explain',
])

/** Statement kinds at the root. */
export const ROOT_KINDS: ReadonlySet<string> = new Set(['SelectWithUnionQuery', 'ShowTables', 'DescribeQuery', 'Explain'])

/** `Explain` node data accepted (the EXPLAIN kinds that only describe a query). */
export const EXPLAIN_KINDS: ReadonlySet<string> = new Set(['EXPLAIN', 'EXPLAIN AST', 'EXPLAIN SYNTAX', 'EXPLAIN PLAN', 'EXPLAIN PIPELINE', 'EXPLAIN ESTIMATE'])

/** Functions whose second argument, when a bare name, is a table (`x IN t`). */
export const IN_FUNCTIONS: ReadonlySet<string> = new Set([
  'in', 'notIn', 'globalIn', 'globalNotIn', 'nullIn', 'notNullIn', 'globalNullIn', 'globalNotNullIn',
  'inIgnoreSet', 'notInIgnoreSet', 'globalInIgnoreSet', 'globalNotInIgnoreSet', 'nullInIgnoreSet', 'notNullInIgnoreSet', 'globalNullInIgnoreSet', 'globalNotNullInIgnoreSet',
])

/** One row of `system.functions`. */
export interface FunctionRow {
  name: string
  is_aggregate: number | string
  case_insensitive: number | string
  alias_to: string
  categories: string
}

/** The functions a sandboxed query may call, built from the engine's catalogue. */
export class FunctionAllowlist {
  readonly #allowed = new Set<string>()
  readonly #aggregates = new Set<string>()
  /** Lower-cased names of case-insensitive functions → their canonical name. */
  readonly #insensitive = new Map<string, string>()

  constructor(rows: readonly FunctionRow[]) {
    const byName = new Map(rows.map((r) => [r.name, r]))
    const allowedRow = (row: FunctionRow): boolean => FUNCTION_CATEGORIES.has(row.categories) || EXTRA_FUNCTIONS.has(row.name)
    for (const row of rows) {
      const target = row.alias_to ? byName.get(row.alias_to) : row
      if (target === undefined) continue
      if (allowedRow(target) || (row.alias_to === '' && EXTRA_FUNCTIONS.has(row.name))) {
        this.#allowed.add(row.name)
        if (Number(target.is_aggregate) === 1) this.#aggregates.add(row.name)
      }
      if (Number(row.case_insensitive) === 1) this.#insensitive.set(row.name.toLowerCase(), row.name)
    }
    // The parser's own forms, which the catalogue may not list.
    for (const name of ['lambda', 'caseWithExpression']) this.#allowed.add(name)
  }

  #canonical(name: string): string {
    return this.#allowed.has(name) || this.#aggregates.has(name) ? name : (this.#insensitive.get(name.toLowerCase()) ?? name)
  }

  /** Whether `name` (as written, any case where ClickHouse accepts it) may be called, combinators included. */
  allows(name: string): boolean {
    const n = this.#canonical(name)
    if (this.#allowed.has(n)) return true
    return this.#aggregateWithCombinators(n)
  }

  #aggregateWithCombinators(name: string, depth = 0): boolean {
    if (depth > 4) return false
    for (const suffix of COMBINATORS) {
      if (name.length > suffix.length && name.endsWith(suffix)) {
        const base = this.#canonical(name.slice(0, -suffix.length))
        if (this.#aggregates.has(base) || this.#aggregateWithCombinators(base, depth + 1)) return true
      }
    }
    return false
  }

  /** Number of functions allowed (without combinator forms). */
  get size(): number {
    return this.#allowed.size
  }
}
