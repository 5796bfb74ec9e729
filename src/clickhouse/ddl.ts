/**
 * DDL text for MergeTree-family tables: pipeline tables, and the table rules a view's target
 * follows (view DDL itself is built in src/views/ddl.ts). Pure functions so that the exact SQL is
 * unit-tested. Names are validated and backquoted; `CREATE ... IF NOT EXISTS` makes provisioning
 * idempotent across restarts.
 *
 * Old-server syntax: `ENGINE = MergeTree PARTITION BY ... ORDER BY (...) SETTINGS ...` is
 * understood by ClickHouse 18.16 and by current releases alike; the only difference is the
 * `non_replicated_deduplication_window` setting, added only where the engine has it.
 */
import { ConfigError } from '../errors.ts'
import type { ColumnDef, EngineName, OlapTableLike } from '../model/types.ts'
import type { ClickHouse } from './client.ts'
import { canonicalColumnType } from './column-type.ts'
import { qualifiedName, quoteIdentifier, settingsSql, sqlString } from './sql.ts'

/** What DDL generation needs to know about the target engine. */
export interface DdlOptions {
  /** Database holding the objects. */
  database: string
  /** Whether to give tables `non_replicated_deduplication_window` (Capabilities.nonReplicatedDedupWindow). */
  dedupWindow: boolean
  /** Its value, in inserted blocks (ResolvedClickHouseOptions.dedupWindowBlocks). */
  dedupWindowBlocks: number
}

/** DdlOptions for a connected engine. */
export function ddlOptionsFor(ch: ClickHouse): DdlOptions {
  return { database: ch.database, dedupWindow: ch.capabilities.nonReplicatedDedupWindow, dedupWindowBlocks: ch.options.dedupWindowBlocks }
}

/** A MergeTree-family table to create. */
export interface TableShape {
  name: string
  columns: readonly ColumnDef[]
  engine: EngineName
  orderByFields: readonly string[]
  partitionBy?: string | undefined
  settings?: Record<string, string | number> | undefined
}

const ENGINES: ReadonlySet<string> = new Set<EngineName>(['MergeTree', 'ReplacingMergeTree', 'SummingMergeTree', 'AggregatingMergeTree'])

/**
 * `` `name` Type `` for one column; the type is parsed against the type grammar (column-type.ts)
 * and printed by flowhouse, so no text of the declaration reaches the DDL as it was written.
 * @throws ConfigError on an invalid name, an empty type or a type outside the grammar.
 */
export function columnSql(column: ColumnDef, table: string): string {
  if (typeof column.type !== 'string' || column.type.trim() === '') {
    throw new ConfigError(`table "${table}": column "${column.name}" has no ClickHouse type`, { table, field: column.name })
  }
  return `${quoteIdentifier(column.name, 'column')} ${canonicalColumnType(column.type, { field: `table "${table}" column "${column.name}" type` })}`
}

/**
 * `CREATE TABLE IF NOT EXISTS` for any MergeTree-family shape: columns in order, ENGINE,
 * PARTITION BY, ORDER BY (`tuple()` when empty), then SETTINGS — the dedup window first
 * (unless the shape sets it itself), then the shape's own settings in their order.
 * @throws ConfigError for an unknown engine, an invalid name, or an ORDER BY field that is not a column.
 */
export function tableSql(shape: TableShape, opts: DdlOptions): string {
  const { name } = shape
  if (!ENGINES.has(shape.engine)) {
    throw new ConfigError(`table "${name}": engine "${shape.engine}" is not supported; use one of ${[...ENGINES].join(', ')}`, { table: name, field: 'engine' })
  }
  if (shape.columns.length === 0) throw new ConfigError(`table "${name}": no columns`, { table: name })
  const names = new Set(shape.columns.map((c) => c.name))
  for (const field of shape.orderByFields) {
    if (!names.has(field)) {
      throw new ConfigError(`table "${name}": orderByFields names "${field}", which is not a column of the table`, { table: name, field })
    }
  }
  const columns = shape.columns.map((c) => columnSql(c, name)).join(', ')
  const orderBy = shape.orderByFields.length === 0 ? 'tuple()' : `(${shape.orderByFields.map((f) => quoteIdentifier(f, 'column')).join(', ')})`
  const settings: Record<string, string | number> = {}
  const own = shape.settings ?? {}
  if (opts.dedupWindow && !('non_replicated_deduplication_window' in own)) settings.non_replicated_deduplication_window = opts.dedupWindowBlocks
  Object.assign(settings, own)
  const partition = shape.partitionBy?.trim() ? ` PARTITION BY ${shape.partitionBy.trim()}` : ''
  const settingsText = Object.keys(settings).length > 0 ? ` SETTINGS ${settingsSql(settings)}` : ''
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName(opts.database, name)} (${columns}) ENGINE = ${shape.engine}${partition} ORDER BY ${orderBy}${settingsText}`
}

/** The TableShape of a pipeline table. */
export function tableShape(table: OlapTableLike): TableShape {
  return {
    name: table.name,
    columns: table.columns,
    engine: table.config.engine,
    orderByFields: table.config.orderByFields,
    partitionBy: table.config.partitionBy,
    settings: table.config.settings,
  }
}

/**
 * `CREATE TABLE IF NOT EXISTS <db>.<name> (cols) ENGINE = <engine> [PARTITION BY ...] ORDER BY (<fields>)
 * [SETTINGS non_replicated_deduplication_window = <n>, <table settings>]` for a pipeline table.
 * The window is there only when `opts.dedupWindow` (contract "Delivery": tables get
 * non_replicated_deduplication_window so a retried batch is dropped).
 * @throws ConfigError for an invalid name, engine or ORDER BY field.
 */
export function createTableSql(table: OlapTableLike, opts: DdlOptions): string {
  return tableSql(tableShape(table), opts)
}

/**
 * `ALTER TABLE <db>.<table> ADD COLUMN <col> <Type>` (no IF NOT EXISTS: ClickHouse 18.16 lacks it),
 * followed by `, COMMENT COLUMN <col> '<comment>'` in the same statement when the column has a
 * comment (one ALTER, so the column never exists without it; 18.16 ignores a COMMENT clause inside ADD COLUMN).
 */
export function addColumnSql(database: string, table: string, column: ColumnDef): string {
  const add = `ALTER TABLE ${qualifiedName(database, table)} ADD COLUMN ${columnSql(column, table)}`
  return column.comment === undefined ? add : `${add}, COMMENT COLUMN ${quoteIdentifier(column.name, 'column')} ${sqlString(column.comment)}`
}
