/**
 * The query helper (contract seeds/000 "Querying Views"): `select`, `filter`, `group_by`,
 * `having`, `order_by`, `limit` (and `offset`) become one SELECT over the view, built from the
 * parsed expressions — never from the request's text. Values travel as bound parameters
 * (`{p0:String}` ...); identifiers must be columns of the view or aliases of `select`. The
 * statement runs through ClickHouse's read-only path (`readonly = 1`).
 *
 * `filter` is a free-form expression string, or an object of column conditions:
 * `{ origin: 'SFO', flights: { gt: 100 }, day: { between: ['2001-01-01', '2001-01-31'] } }`
 * with eq, ne, gt, gte, lt, lte, in, nin, like, between and is_null (also written `$gt` ...).
 */
import { qualifiedName, quoteIdentifier } from '../../clickhouse/sql.ts'
import type { Expr } from './language.ts'
import { queryError, type LexContext } from './lexer.ts'
import { parseExpression, parseExpressionList, parseOrderItems, parseSelectItems, type Scope } from './parser.ts'

/** The body of POST /api/mv/:name/query. */
export interface ViewQueryRequest {
  select?: string | string[]
  filter?: string | Record<string, unknown>
  group_by?: string | string[]
  having?: string
  order_by?: string | string[]
  limit?: number
  offset?: number
}

/** A statement ready for queryReadonly. */
export interface BuiltQuery {
  sql: string
  params: Record<string, string>
}

/** Collects bound parameters `{p<n>:<Type>}`. */
export class Params {
  readonly values: Record<string, string> = {}
  #n = 0
  /** Binds a value; @returns its placeholder `{p<n>:<type>}`. */
  add(value: string, type: string): string {
    const name = `p${this.#n++}`
    this.values[name] = value
    return `{${name}:${type}}`
  }
}

/** SQL of a parsed expression, literals bound as parameters. */
export function emit(e: Expr, params: Params): string {
  switch (e.k) {
    case 'col':
      return quoteIdentifier(e.name, 'column')
    case 'lit':
      return params.add(e.value, e.type)
    case 'const':
      return e.text
    case 'bin':
      return `(${emit(e.l, params)} ${e.op} ${emit(e.r, params)})`
    case 'not':
      return `(NOT ${emit(e.e, params)})`
    case 'neg':
      return `(-${emit(e.e, params)})`
    case 'fn':
      return `${e.name}(${e.star ? '' : e.args.map((a) => emit(a, params)).join(', ')})`
    case 'in':
      return `(${emit(e.e, params)} ${e.neg ? 'NOT IN' : 'IN'} (${e.list.map((x) => emit(x, params)).join(', ')}))`
    case 'between':
      return `(${emit(e.e, params)} ${e.neg ? 'NOT BETWEEN' : 'BETWEEN'} ${emit(e.lo, params)} AND ${emit(e.hi, params)})`
    case 'isnull':
      return `(${emit(e.e, params)} IS ${e.neg ? 'NOT ' : ''}NULL)`
    case 'like':
      return `(${emit(e.e, params)} ${e.neg ? 'NOT ' : ''}${e.ci ? 'ILIKE' : 'LIKE'} ${emit(e.pattern, params)})`
    case 'interval':
      return `toInterval${e.unit[0]}${e.unit.slice(1).toLowerCase()}(${emit(e.e, params)})`
  }
}

/** Column names an expression refers to. */
export function columnsIn(e: Expr, out: Set<string> = new Set()): Set<string> {
  switch (e.k) {
    case 'col':
      out.add(e.name)
      break
    case 'bin':
      columnsIn(e.l, out)
      columnsIn(e.r, out)
      break
    case 'not':
    case 'neg':
    case 'isnull':
    case 'interval':
      columnsIn(e.e, out)
      break
    case 'fn':
      for (const a of e.args) columnsIn(a, out)
      break
    case 'in':
      columnsIn(e.e, out)
      for (const x of e.list) columnsIn(x, out)
      break
    case 'between':
      for (const x of [e.e, e.lo, e.hi]) columnsIn(x, out)
      break
    case 'like':
      columnsIn(e.e, out)
      columnsIn(e.pattern, out)
      break
  }
  return out
}

const CONDITION_OPS: Readonly<Record<string, string>> = { eq: '=', ne: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' }

function literalOf(value: unknown, ctx: LexContext, field: string): Expr {
  if (value === null) return { k: 'const', text: 'NULL' }
  if (typeof value === 'boolean') return { k: 'const', text: value ? 'true' : 'false' }
  if (typeof value === 'string') return { k: 'lit', value, type: 'String' }
  if (typeof value === 'number' && Number.isFinite(value)) return { k: 'lit', value: String(value), type: Number.isInteger(value) ? 'Int64' : 'Float64' }
  throw queryError(ctx, `the value for "${field}" must be a string, a finite number, a boolean or null (got ${JSON.stringify(value)})`)
}

/** A structured filter object as an expression (AND of its conditions). */
export function structuredFilter(filter: Record<string, unknown>, scope: Scope): Expr | undefined {
  const parts: Expr[] = []
  for (const [column, condition] of Object.entries(filter)) {
    if (!scope.names.has(column)) throw queryError(scope, `unknown column "${column}"; the view's columns are ${[...scope.names].map((n) => `"${n}"`).join(', ')}`)
    const col: Expr = { k: 'col', name: column }
    if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) {
      parts.push(condition === null ? { k: 'isnull', e: col, neg: false } : { k: 'bin', op: '=', l: col, r: literalOf(condition, scope, column) })
      continue
    }
    for (const [rawOp, value] of Object.entries(condition)) {
      const op = rawOp.replace(/^\$/, '')
      // Own properties only: `constructor`, `valueOf` ... of Object.prototype are not operators.
      if (Object.hasOwn(CONDITION_OPS, op)) parts.push({ k: 'bin', op: CONDITION_OPS[op] as string, l: col, r: literalOf(value, scope, column) })
      else if (op === 'in' || op === 'nin') {
        if (!Array.isArray(value) || value.length === 0 || value.length > 1_000) throw queryError(scope, `"${column}".${rawOp} takes a non-empty array of at most 1000 values`)
        parts.push({ k: 'in', e: col, list: value.map((v) => literalOf(v, scope, column)), neg: op === 'nin' })
      } else if (op === 'between') {
        if (!Array.isArray(value) || value.length !== 2) throw queryError(scope, `"${column}".${rawOp} takes [low, high]`)
        parts.push({ k: 'between', e: col, lo: literalOf(value[0], scope, column), hi: literalOf(value[1], scope, column), neg: false })
      } else if (op === 'like' || op === 'ilike') {
        if (typeof value !== 'string') throw queryError(scope, `"${column}".${rawOp} takes a string pattern`)
        parts.push({ k: 'like', e: col, pattern: literalOf(value, scope, column), neg: false, ci: op === 'ilike' })
      } else if (op === 'is_null') {
        parts.push({ k: 'isnull', e: col, neg: value === false })
      } else {
        throw queryError(scope, `unknown condition "${rawOp}" on "${column}"; use eq, ne, gt, gte, lt, lte, in, nin, like, ilike, between or is_null`)
      }
    }
  }
  return parts.reduce<Expr | undefined>((acc, e) => (acc ? { k: 'bin', op: 'AND', l: acc, r: e } : e), undefined)
}

const KEYS = new Set(['select', 'filter', 'group_by', 'having', 'order_by', 'limit', 'offset'])

function textOf(value: unknown, ctx: LexContext): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) return (value as string[]).join(', ')
  throw queryError(ctx, `must be a string or a non-empty array of strings (got ${JSON.stringify(value)})`)
}

function integerOf(value: unknown, ctx: LexContext, min: number, max: number): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) throw queryError(ctx, `must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`)
  return value as number
}

/**
 * Builds the SELECT of a view query.
 * @param view name for messages; @param database and table: what is read (the view's readable object);
 * @param columns the readable object's column names; @param limits default and largest limit.
 * @throws QueryError for an unknown field, identifier, function or operator, text that does not
 *   parse, or a limit out of range.
 */
export function buildViewQuery(view: string, database: string, table: string, columns: readonly string[], request: ViewQueryRequest, limits: { defaultLimit: number; maxLimit: number }): BuiltQuery {
  const ctx = (part: string): LexContext => ({ view, part })
  if (typeof request !== 'object' || request === null || Array.isArray(request)) throw queryError(ctx('request'), 'the body must be a JSON object')
  const unknown = Object.keys(request).filter((k) => !KEYS.has(k))
  if (unknown.length > 0) throw queryError(ctx('request'), `unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; accepted: ${[...KEYS].join(', ')}`)
  const params = new Params()
  const names = new Set(columns)
  const withAliases = new Set(columns)
  const aliases = new Set<string>()

  let selectSql = '*'
  if (request.select !== undefined) {
    const items = parseSelectItems(textOf(request.select, ctx('select')), { ...ctx('select'), names, aggregates: true })
    selectSql = items
      .map((item) => {
        if (item.expr === '*') return '*'
        if (item.alias !== undefined) {
          withAliases.add(item.alias)
          aliases.add(item.alias)
        }
        return item.alias !== undefined ? `${emit(item.expr, params)} AS ${quoteIdentifier(item.alias, 'column')}` : emit(item.expr, params)
      })
      .join(', ')
  }
  let sql = `SELECT ${selectSql} FROM ${qualifiedName(database, table)}`
  if (request.filter !== undefined) {
    const scope: Scope = { ...ctx('filter'), names, aggregates: false }
    const where =
      typeof request.filter === 'string'
        ? parseExpression(request.filter, scope)
        : typeof request.filter === 'object' && request.filter !== null && !Array.isArray(request.filter)
          ? structuredFilter(request.filter, scope)
          : (() => {
              throw queryError(scope, `must be an expression string or an object of column conditions (got ${JSON.stringify(request.filter)})`)
            })()
    if (where) {
      // ClickHouse resolves a select alias before a column of the same name, even in WHERE.
      const shadowed = [...columnsIn(where)].find((c) => withAliases.has(c) && aliases.has(c))
      if (shadowed !== undefined) throw queryError(scope, `the select alias "${shadowed}" hides the column "${shadowed}" that the filter uses (ClickHouse would filter on the alias); give the alias another name`)
      sql += ` WHERE ${emit(where, params)}`
    }
  }
  if (request.group_by !== undefined) {
    const keys = parseExpressionList(textOf(request.group_by, ctx('group_by')), { ...ctx('group_by'), names: withAliases, aggregates: false })
    sql += ` GROUP BY ${keys.map((k) => emit(k, params)).join(', ')}`
  }
  if (request.having !== undefined) {
    if (typeof request.having !== 'string') throw queryError(ctx('having'), 'must be an expression string')
    sql += ` HAVING ${emit(parseExpression(request.having, { ...ctx('having'), names: withAliases, aggregates: true }), params)}`
  }
  if (request.order_by !== undefined) {
    const items = parseOrderItems(textOf(request.order_by, ctx('order_by')), { ...ctx('order_by'), names: withAliases, aggregates: true })
    sql += ` ORDER BY ${items.map((o) => `${emit(o.expr, params)}${o.desc ? ' DESC' : ' ASC'}${o.nulls ? ` NULLS ${o.nulls}` : ''}`).join(', ')}`
  }
  const limit = request.limit === undefined ? limits.defaultLimit : integerOf(request.limit, ctx('limit'), 1, limits.maxLimit)
  sql += ` LIMIT ${limit}`
  if (request.offset !== undefined) sql += ` OFFSET ${integerOf(request.offset, ctx('offset'), 0, 1_000_000_000)}`
  return { sql, params: params.values }
}
