/**
 * A view's SELECT as a template over its source: `{source_table}` marks where the source table is
 * read (the API takes it so, contract seeds/003 "select_query ... use {source_table}"). The
 * manager renders the template with the table for the MV, and with a filtered subquery of the
 * table for backfill batches and watermark cutoffs, so that the user's SELECT never has to be
 * parsed beyond finding its source.
 */
import { scanSql } from '../clickhouse/sqltext.ts'
import { ConfigError } from '../errors.ts'

/** The placeholder of the source table. */
export const SOURCE_PLACEHOLDER = '{source_table}'

/** The text with strings and comments blanked (same length), so that offsets stay valid. */
function masked(sql: string): string {
  return scanSql(sql)
    .map((seg) => (seg.kind === 'string' || seg.kind === 'comment' ? seg.text.replace(/[^\n]/g, ' ') : seg.text))
    .join('')
}

const ci = (word: string): string => [...word].map((c) => `[${c.toLowerCase()}${c.toUpperCase()}]`).join('')

/**
 * Turns a SELECT that names its source table into a template: every `FROM <source>` and
 * `JOIN <source>` (optionally `<database>.`-qualified, optionally backquoted or double-quoted)
 * outside strings and comments becomes `FROM {source_table}`. A SELECT that already holds the
 * placeholder is returned as it is.
 * @throws ConfigError when the SELECT never reads the source table after FROM or JOIN.
 */
export function sourceTemplate(view: string, select: string, source: string, database: string): string {
  if (masked(select).includes(SOURCE_PLACEHOLDER)) return select
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')
  const name = (s: string): string => `(?:\`${esc(s)}\`|"${esc(s)}"|${esc(s)})`
  const re = new RegExp(`\\b(${ci('from')}|${ci('join')})(\\s+)(?:${name(database)}\\s*\\.\\s*)?${name(source)}(?![A-Za-z0-9_\`".])`, 'g')
  const text = masked(select)
  let out = ''
  let at = 0
  let found = 0
  for (const m of text.matchAll(re)) {
    const start = m.index
    out += select.slice(at, start) + `${m[1]}${m[2]}${SOURCE_PLACEHOLDER}`
    at = start + m[0].length
    found++
  }
  if (found === 0) {
    throw new ConfigError(`view "${view}": its SELECT never reads the source table "${source}" after FROM or JOIN; write FROM ${source} (or FROM {source_table}) in the SELECT`, { view, field: 'select' })
  }
  return out + select.slice(at)
}

/** Words that may follow a table in FROM without being its alias. */
const NOT_ALIAS = /^\s+(?:AS\s+)?(?!(?:WHERE|PREWHERE|GROUP|ORDER|LIMIT|HAVING|UNION|EXCEPT|INTERSECT|SETTINGS|FORMAT|FINAL|SAMPLE|ARRAY|LEFT|RIGHT|INNER|OUTER|FULL|CROSS|JOIN|GLOBAL|ANY|ALL|ASOF|SEMI|ANTI|PASTE|ON|USING|WINDOW|QUALIFY|INTO|WITH)\b)[A-Za-z_`"]/i

/**
 * The template with `{source_table}` (outside strings and comments) replaced by `from`: a table
 * name, or a function of whether the template gives the source an alias of its own (so that a
 * subquery standing for the source is aliased exactly once), e.g.
 * `(own) => '(SELECT * FROM t WHERE ...)' + (own ? '' : ' AS t')`.
 */
export function renderSource(template: string, from: string | ((ownAlias: boolean) => string)): string {
  const text = masked(template)
  let out = ''
  let at = 0
  for (let i = text.indexOf(SOURCE_PLACEHOLDER); i !== -1; i = text.indexOf(SOURCE_PLACEHOLDER, i + 1)) {
    const end = i + SOURCE_PLACEHOLDER.length
    out += template.slice(at, i) + (typeof from === 'string' ? from : from(NOT_ALIAS.test(text.slice(end))))
    at = end
  }
  return out + template.slice(at)
}

const CLAUSE_END = /^(?:GROUP\s+BY|HAVING|ORDER\s+BY|LIMIT|SETTINGS|UNION|EXCEPT|INTERSECT|WINDOW|QUALIFY|FORMAT)\b/i

/**
 * Adds a predicate to the WHERE clause of the (sub)query that reads the source: `WHERE (<predicate>)
 * AND (<existing condition>)`, or a new `WHERE <predicate>` before GROUP BY / HAVING / ORDER BY /
 * LIMIT / SETTINGS / UNION or the end of that query. Used for the MV's cutoff filter, because a
 * materialized view of ClickHouse 18.x runs its SELECT with the inserted block in place of the
 * whole FROM subquery, so a filter inside `FROM (SELECT ... WHERE ...)` would be ignored there.
 * The template's first `{source_table}` decides which query is filtered.
 * @throws RangeError when the template has no placeholder (a programmer error).
 */
export function withSourceFilter(template: string, predicate: string): string {
  const text = masked(template)
  const at = text.indexOf(SOURCE_PLACEHOLDER)
  if (at === -1) throw new RangeError('the template has no {source_table}')
  let depth = 0
  let where = -1
  let end = text.length
  for (let i = at + SOURCE_PLACEHOLDER.length; i < text.length; i++) {
    const c = text[i]
    if (c === '(') depth++
    else if (c === ')') {
      if (depth === 0) {
        end = i
        break
      }
      depth--
    } else if (depth === 0 && /[A-Za-z]/.test(c as string) && !/[A-Za-z0-9_]/.test(text[i - 1] ?? ' ')) {
      const rest = text.slice(i)
      if (where === -1 && /^WHERE\b/i.test(rest)) where = i
      else if (CLAUSE_END.test(rest)) {
        end = i
        break
      }
    }
  }
  const tail = template.slice(end).trimStart()
  const gap = tail === '' || tail.startsWith(')') ? '' : ' '
  if (where === -1) return `${template.slice(0, end).trimEnd()} WHERE ${predicate}${gap}${tail}`
  const condition = template.slice(where + 'WHERE'.length, end).trim()
  return `${template.slice(0, where)}WHERE (${predicate}) AND (${condition})${gap}${tail}`
}
