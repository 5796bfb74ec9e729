/**
 * How the view stage reads a source table and the system tables next to it, on the server
 * flowhouse is connected to or, for a clustered view, on each node through `remote()`.
 * Positions (block numbers or watermark values) become SQL predicates here.
 */
import type { ClickHouse } from '../clickhouse/client.ts'
import { queryRows } from '../clickhouse/query.ts'
import { qualifiedName, quoteIdentifier, sqlString } from '../clickhouse/sql.ts'
import { ConfigError } from '../errors.ts'
import { remoteTable } from './ddl.ts'
import type { Watermark } from './types.ts'

/** One place the source can be read from. */
export interface SourceAccess {
  /** `local`, or `host:port` (several, comma-separated, for every shard at once). */
  node: string
  /** FROM-able SQL of the source table. */
  from: string
  /** FROM-able SQL of a system table on the same node(s). */
  system(table: string): string
}

/** The source on the connected server. */
export function localAccess(database: string, source: string): SourceAccess {
  return { node: 'local', from: qualifiedName(database, source), system: (t) => `system.${quoteIdentifier(t, 'table')}` }
}

/** The source on cluster node(s) `host:port[,host:port...]`, read through `remote()`. */
export function remoteAccess(node: string, database: string, source: string): SourceAccess {
  return { node, from: remoteTable(node, database, source), system: (t) => remoteTable(node, 'system', t) }
}

/** The column's type without LowCardinality / Nullable wrappers (what a position is cast to). */
export function baseType(type: string): string {
  let t = type.trim()
  for (;;) {
    const m = /^(?:LowCardinality|Nullable)\((.*)\)$/.exec(t)
    if (!m) return t
    t = (m[1] as string).trim()
  }
}

/** `CAST('<value>' AS <type>)`: a stored position as a typed constant. */
export function positionSql(value: string, wm: Watermark): string {
  return wm.kind === 'insert_order' ? String(BigInt(value)) : `CAST(${sqlString(value)} AS ${baseType(wm.type ?? 'String')})`
}

/** The expression ordering rows: `_block_number`, or the watermark column. */
export function watermarkExpr(wm: Watermark): string {
  return wm.kind === 'insert_order' ? '_block_number' : quoteIdentifier(wm.column as string, 'column')
}

/**
 * The predicate of the rows in (lo, hi]: `<wm> > lo AND <wm> <= hi`; `lo` null means from the
 * start, `hi` null means without an end.
 */
export function rangePredicate(wm: Watermark, lo: string | null, hi: string | null): string | undefined {
  const expr = watermarkExpr(wm)
  const parts: string[] = []
  if (lo !== null) parts.push(`${expr} > ${positionSql(lo, wm)}`)
  if (hi !== null) parts.push(`${expr} <= ${positionSql(hi, wm)}`)
  return parts.length > 0 ? parts.join(' AND ') : undefined
}

/**
 * The source's version: the highest block number ClickHouse allocated to it (system.parts,
 * active and outdated parts). Every INSERT commits its parts with new, higher block numbers, so
 * the version grows with every write and never with merges. 0 for a table that never had data.
 * @throws ClickHouseError.
 */
export async function sourceVersion(ch: ClickHouse, access: SourceAccess, database: string, source: string): Promise<number> {
  const [row] = await queryRows<{ v: number | string }>(ch, `SELECT max(max_block_number) AS v FROM ${access.system('parts')} WHERE database = ${sqlString(database)} AND table = ${sqlString(source)}`)
  return Number(row?.v ?? 0)
}

/**
 * The watermark of a view: the requested column (with its type), else ClickHouse's insert order
 * where the engine can persist block numbers (`enable_block_number_column`, ClickHouse ≥ 24) and
 * the view is not clustered, else the source's first ORDER BY column.
 * @throws ConfigError when the column does not exist in the source, or no watermark can be found.
 */
export async function chooseWatermark(ch: ClickHouse, database: string, source: string, requested: string | undefined, clustered: boolean): Promise<Watermark> {
  const columns = await queryRows<{ name: string; type: string }>(ch, `SELECT name, type FROM system.columns WHERE database = ${sqlString(database)} AND table = ${sqlString(source)}`)
  if (columns.length === 0) throw new ConfigError(`source table "${source}" does not exist in database ${database}`, { table: source })
  const column = (name: string): Watermark => {
    const found = columns.find((c) => c.name === name)
    if (!found) throw new ConfigError(`watermark column "${name}" is not a column of "${source}" (columns: ${columns.map((c) => c.name).join(', ')})`, { table: source, field: name })
    return { kind: 'column', column: name, type: found.type }
  }
  if (requested) return column(requested)
  if (!clustered) {
    const [setting] = await queryRows<{ name: string }>(ch, `SELECT name FROM system.merge_tree_settings WHERE name = 'enable_block_number_column'`)
    if (setting) return { kind: 'insert_order', column: null, type: null }
  }
  const [table] = await queryRows<{ sorting_key: string }>(ch, `SELECT sorting_key FROM system.tables WHERE database = ${sqlString(database)} AND name = ${sqlString(source)}`)
  const first = table?.sorting_key.split(',')[0]?.trim().replace(/`/g, '')
  if (!first || !columns.some((c) => c.name === first)) {
    throw new ConfigError(`view over "${source}": this engine cannot order inserts by block number and the source has no plain ORDER BY column; give the view a watermark column that grows with inserts`, { table: source })
  }
  return column(first)
}

/** The insert-time race: a regex matching `INSERT INTO [db.]source` at the start of a query text. */
export function insertIntoRegex(database: string, source: string): string {
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')
  const name = (s: string): string => `[\`"]?${esc(s)}[\`"]?`
  return `(?i)^\\s*INSERT\\s+INTO\\s+(TABLE\\s+)?(${name(database)}\\s*\\.\\s*)?${name(source)}(\\s|\\(|$)`
}

/**
 * INSERTs into the source running on the node(s) for longer than `olderThanSeconds`
 * (system.processes). @throws ClickHouseError.
 */
export async function runningInserts(ch: ClickHouse, access: SourceAccess, database: string, source: string, olderThanSeconds: number): Promise<number> {
  const [row] = await queryRows<{ n: number | string }>(
    ch,
    `SELECT count() AS n FROM ${access.system('processes')} WHERE elapsed >= ${Math.max(0, olderThanSeconds).toFixed(3)} AND match(query, ${sqlString(insertIntoRegex(database, source))})`,
  )
  return Number(row?.n ?? 0)
}
