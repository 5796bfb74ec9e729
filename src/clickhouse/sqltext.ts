/**
 * A small SQL lexer (strings, quoted identifiers, comments) and what flowhouse does with it:
 * count statements, bind `{name:Type}` parameters into the text for engines without server-side
 * parameters (ClickHouse 18.x), and normalise a SELECT for comparison.
 */
import { FlowhouseError } from '../errors.ts'
import { quoteIdentifier, sqlString } from './sql.ts'

/** A piece of SQL text: code, a '...' string, a "..." / `...` identifier, or a comment. */
export interface Segment {
  kind: 'code' | 'string' | 'quoted' | 'comment'
  text: string
}

function quotedEnd(sql: string, start: number, quote: string): number {
  let i = start + 1
  while (i < sql.length) {
    const c = sql[i]
    if (c === '\\') i += 2
    else if (c === quote && sql[i + 1] === quote) i += 2
    else if (c === quote) return i + 1
    else i++
  }
  return sql.length
}

/** Splits SQL into segments. An unterminated string or comment runs to the end of the text. */
export function scanSql(sql: string): Segment[] {
  const out: Segment[] = []
  let code = ''
  const flush = (): void => {
    if (code) out.push({ kind: 'code', text: code })
    code = ''
  }
  let i = 0
  while (i < sql.length) {
    const c = sql[i] as string
    let end = -1
    let kind: Segment['kind'] = 'code'
    if (c === "'") [end, kind] = [quotedEnd(sql, i, "'"), 'string']
    else if (c === '"' || c === '`') [end, kind] = [quotedEnd(sql, i, c), 'quoted']
    else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i)
      ;[end, kind] = [nl === -1 ? sql.length : nl, 'comment']
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2)
      ;[end, kind] = [close === -1 ? sql.length : close + 2, 'comment']
    }
    if (end === -1) {
      code += c
      i++
      continue
    }
    flush()
    out.push({ kind, text: sql.slice(i, end) })
    i = end
  }
  flush()
  return out
}

/** The statements of a SQL text, split on top-level `;`; empty or comment-only ones are left out. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = []
  let current = ''
  let meaningful = false
  for (const seg of scanSql(sql)) {
    if (seg.kind !== 'code') {
      current += seg.text
      if (seg.kind !== 'comment') meaningful = true
      continue
    }
    const parts = seg.text.split(';')
    parts.forEach((part, index) => {
      if (index > 0) {
        if (meaningful) statements.push(current.trim())
        current = ''
        meaningful = false
      }
      current += part
      if (part.trim() !== '') meaningful = true
    })
  }
  if (meaningful) statements.push(current.trim())
  return statements
}

const PLACEHOLDER = /\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/g
/** Type text allowed in a placeholder: names, numbers, commas, parentheses, enum literals. */
const TYPE_TEXT = /^[A-Za-z][A-Za-z0-9_(), '.=+-]*$/

function badParam(name: string, why: string): FlowhouseError {
  return new FlowhouseError('BAD_REQUEST', `query parameter "${name}": ${why}`, { context: { field: name } })
}

function literal(name: string, value: unknown, type: string): string {
  if (value === null || value === undefined) return 'NULL'
  if (typeof value === 'string') return sqlString(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw badParam(name, `${value} is not a finite number`)
    return String(value)
  }
  if (typeof value === 'bigint') return String(value)
  if (typeof value === 'boolean') return value ? '1' : '0'
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw badParam(name, 'invalid Date')
    // Date columns take 'YYYY-MM-DD'; DateTime takes epoch seconds (no time-zone ambiguity).
    return /^(Nullable\()?Date(32)?\b(?!Time)/.test(type) ? sqlString(value.toISOString().slice(0, 10)) : String(Math.floor(value.getTime() / 1000))
  }
  if (Array.isArray(value)) return `[${value.map((v) => literal(name, v, '')).join(', ')}]`
  throw badParam(name, `values of type ${typeof value} are not supported (use strings, numbers, booleans, dates or arrays)`)
}

/**
 * Replaces `{name:Type}` placeholders outside strings and comments with `CAST(<literal> AS Type)`
 * (`{name:Identifier}` with a backquoted, validated name). Used when the engine has no
 * server-side query parameters (ClickHouse 18.x).
 * @throws FlowhouseError BAD_REQUEST for a missing parameter, an unsupported value or type text.
 */
export function bindParamsInline(sql: string, params: Record<string, unknown>): string {
  return scanSql(sql)
    .map((seg) => {
      if (seg.kind !== 'code') return seg.text
      return seg.text.replace(PLACEHOLDER, (_m, name: string, type: string) => {
        if (!Object.prototype.hasOwnProperty.call(params, name)) throw badParam(name, 'no value given')
        const value = params[name]
        if (type === 'Identifier') return quoteIdentifier(String(value), 'column')
        if (!TYPE_TEXT.test(type) || type.includes(';')) throw badParam(name, `type ${JSON.stringify(type)} is not supported`)
        return `CAST(${literal(name, value, type)} AS ${type})`
      })
    })
    .join('')
}

function unquote(text: string): string {
  return text.slice(1, text.endsWith(text[0] as string) && text.length > 1 ? -1 : undefined)
}

/**
 * A SELECT reduced for comparison: comments dropped, identifiers unquoted, code lower-cased
 * with whitespace collapsed, `<database>.` qualifiers removed; string literals kept as written.
 * Two SELECTs that ClickHouse would store the same way normalise to the same text.
 */
export function normalizeSelect(sql: string, database: string): string {
  const db = database.toLowerCase().replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')
  const qualifier = new RegExp(`(^|[^a-z0-9_])${db}\\.`, 'g')
  const tidy = (code: string): string =>
    code
      .toLowerCase()
      .replace(/\s+/g, ' ')
      .replace(/\s*([(),.=<>+*/-])\s*/g, '$1')
      .replace(qualifier, '$1')
  let out = ''
  let run = ''
  for (const seg of scanSql(sql)) {
    if (seg.kind === 'comment') run += ' '
    else if (seg.kind === 'code') run += seg.text
    else if (seg.kind === 'quoted') run += unquote(seg.text)
    else {
      out += tidy(run) + seg.text
      run = ''
    }
  }
  out += tidy(run)
  return out.trim().replace(/;+$/, '').trim()
}
