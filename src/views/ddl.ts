/**
 * SQL text of materialized views — the only builders of view DDL: target table, MV, Distributed
 * table, query view, drops, OPTIMIZE, swaps and backfill inserts — with `ON CLUSTER` when the view
 * is clustered; a target table follows the table rules of src/clickhouse/ddl.ts. Pure functions,
 * so the exact text is unit-tested; every name is quoted by clickhouse/sql.ts. Everything here is
 * understood by ClickHouse 18.16 and by current releases, except EXCHANGE TABLES (newer engines
 * only; the swap falls back to a double RENAME) and the deduplication settings (added only where
 * the engine has them).
 */
import { tableSql, type DdlOptions, type TableShape } from '../clickhouse/ddl.ts'
import { qualifiedName, quoteIdentifier, settingsSql, sqlString } from '../clickhouse/sql.ts'
import { splitStatements } from '../clickhouse/sqltext.ts'
import { ConfigError } from '../errors.ts'
import type { ColumnDef, MaterializedViewLike } from '../model/types.ts'
import type { ViewDefinition } from './types.ts'

/** What view DDL needs to know about the engine and the cluster. */
export interface ViewDdlContext extends DdlOptions {
  /** Cluster for `ON CLUSTER`, or null on a single server. */
  cluster: string | null
}

/** ` ON CLUSTER `c`` or ''. */
export function onCluster(ctx: Pick<ViewDdlContext, 'cluster'>): string {
  return ctx.cluster ? ` ON CLUSTER ${quoteIdentifier(ctx.cluster, 'table')}` : ''
}

/** `` `db`.`name` `` */
export function qn(ctx: Pick<ViewDdlContext, 'database'>, name: string): string {
  return qualifiedName(ctx.database, name)
}

/** The target of a view, as a module declares it (MaterializedViewLike) or a definition holds it (ViewDefinition). */
export type ViewTarget = Pick<ViewDefinition, 'target'>

/** The TableShape of a view's target table with the given columns (named `name`, the target's name by default). */
export function targetShape(view: ViewTarget, columns: readonly ColumnDef[], name = view.target.name): TableShape {
  return { name, columns, engine: view.target.engine, orderByFields: view.target.orderByFields, settings: view.target.settings }
}

/**
 * `CREATE TABLE IF NOT EXISTS <db>.<target> [ON CLUSTER c] (cols) ENGINE = ... ORDER BY (...) [SETTINGS ...]`
 * (the table rules of src/clickhouse/ddl.ts, including the dedup window where supported, so a
 * retried batch is dropped in the target too).
 * @throws ConfigError for an invalid name, engine, or an ORDER BY field that is not a column.
 */
export function targetTableSql(view: ViewTarget, columns: readonly ColumnDef[], ctx: ViewDdlContext, name = view.target.name): string {
  const sql = tableSql(targetShape(view, columns, name), ctx)
  const head = `CREATE TABLE IF NOT EXISTS ${qn(ctx, name)}`
  return head + onCluster(ctx) + sql.slice(head.length)
}

/** `CREATE MATERIALIZED VIEW IF NOT EXISTS <db>.<mv> [ON CLUSTER c] TO <db>.<target> AS <select>` */
export function materializedViewSql(mv: string, target: string, select: string, ctx: ViewDdlContext): string {
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${qualifiedName(ctx.database, mv, 'view')}${onCluster(ctx)} TO ${qn(ctx, target)} AS ${select}`
}

/**
 * The view's SELECT as one statement without a trailing `;`.
 * @throws ConfigError when the text is empty or holds several statements.
 */
export function viewSelect(view: Pick<MaterializedViewLike, 'name' | 'select'>): string {
  const statements = splitStatements(view.select ?? '')
  if (statements.length !== 1) {
    throw new ConfigError(`view "${view.name}": select must be exactly one SELECT statement (got ${statements.length})`, { view: view.name, field: 'select' })
  }
  return statements[0] as string
}

/**
 * The two statements of a module's materialized view on one server, to run in order:
 * `target` (targetTableSql) and `view` (materializedViewSql over the view's SELECT).
 * @param targetColumns the target's columns: `view.target.columns`, or inferColumns(ch, select) (provision.ts).
 * @throws ConfigError for invalid names, ORDER BY fields that are not columns, or a SELECT that is not one statement.
 */
export function createMaterializedViewSql(view: MaterializedViewLike, targetColumns: readonly ColumnDef[], opts: DdlOptions): { target: string; view: string } {
  const select = viewSelect(view)
  const ctx: ViewDdlContext = { ...opts, cluster: null }
  return { target: targetTableSql(view, targetColumns, ctx), view: materializedViewSql(view.name, view.target.name, select, ctx) }
}

/**
 * `CREATE TABLE IF NOT EXISTS <db>.<dist> ON CLUSTER c AS <db>.<target> ENGINE = Distributed('c', 'db', 'target', rand())`
 * (contract seeds/003: `<name>_dist` reads every shard's target). @throws RangeError without a cluster.
 */
export function distributedTableSql(dist: string, target: string, ctx: ViewDdlContext): string {
  if (!ctx.cluster) throw new RangeError('a Distributed table needs a cluster')
  return `CREATE TABLE IF NOT EXISTS ${qn(ctx, dist)}${onCluster(ctx)} AS ${qn(ctx, target)} ENGINE = Distributed(${sqlString(ctx.cluster)}, ${sqlString(ctx.database)}, ${sqlString(target)}, rand())`
}

/** `CREATE VIEW IF NOT EXISTS <db>.<name> [ON CLUSTER c] AS <select>` (the merging view of a declarative view). */
export function queryViewSql(name: string, select: string, ctx: ViewDdlContext): string {
  return `CREATE VIEW IF NOT EXISTS ${qualifiedName(ctx.database, name, 'view')}${onCluster(ctx)} AS ${select}`
}

/** `DROP TABLE IF EXISTS <db>.<name> [ON CLUSTER c]` (tables, views and MVs alike). */
export function dropSql(name: string, ctx: Pick<ViewDdlContext, 'database' | 'cluster'>): string {
  return `DROP TABLE IF EXISTS ${qn(ctx, name)}${onCluster(ctx)}`
}

/** `TRUNCATE TABLE IF EXISTS <db>.<name> [ON CLUSTER c]` */
export function truncateSql(name: string, ctx: Pick<ViewDdlContext, 'database' | 'cluster'>): string {
  return `TRUNCATE TABLE IF EXISTS ${qn(ctx, name)}${onCluster(ctx)}`
}

/** `OPTIMIZE TABLE <db>.<name> [ON CLUSTER c] FINAL` (step 4 of the two-phase backfill). */
export function optimizeSql(name: string, ctx: Pick<ViewDdlContext, 'database' | 'cluster'>): string {
  return `OPTIMIZE TABLE ${qn(ctx, name)}${onCluster(ctx)} FINAL`
}

/** `CREATE TABLE <db>.<name> AS <db>.<like>`: an empty table with the same columns, engine and settings. */
export function createLikeSql(name: string, like: string, ctx: Pick<ViewDdlContext, 'database'>): string {
  return `CREATE TABLE ${qn(ctx, name)} AS ${qn(ctx, like)}`
}

/** `EXCHANGE TABLES <db>.<a> AND <db>.<b>`: atomic swap (Atomic databases, ClickHouse ≥ 21). */
export function exchangeSql(a: string, b: string, ctx: Pick<ViewDdlContext, 'database'>): string {
  return `EXCHANGE TABLES ${qn(ctx, a)} AND ${qn(ctx, b)}`
}

/** `RENAME TABLE <db>.<a> TO <db>.<old>, <db>.<b> TO <db>.<a>`: the swap on engines without EXCHANGE (one statement). */
export function renameSwapSql(a: string, b: string, old: string, ctx: Pick<ViewDdlContext, 'database'>): string {
  return `RENAME TABLE ${qn(ctx, a)} TO ${qn(ctx, old)}, ${qn(ctx, b)} TO ${qn(ctx, a)}`
}

/** `ALTER TABLE <db>.<source> MODIFY SETTING enable_block_number_column = 1`: persist each row's insert block number. */
export function enableBlockNumbersSql(source: string, ctx: Pick<ViewDdlContext, 'database'>): string {
  return `ALTER TABLE ${qn(ctx, source)} MODIFY SETTING enable_block_number_column = 1`
}

/**
 * `INSERT INTO <db>.<target> (<columns>) [SETTINGS ...] <select>`. Columns are named because an
 * INSERT ... SELECT maps by position and the target may order its columns differently.
 */
export function insertSelectSql(target: string, columns: readonly string[], select: string, settings: Record<string, string | number>, ctx: Pick<ViewDdlContext, 'database'>): string {
  const cols = columns.map((c) => quoteIdentifier(c, 'column')).join(', ')
  const settingsText = Object.keys(settings).length > 0 ? ` SETTINGS ${settingsSql(settings)}` : ''
  return `INSERT INTO ${qn(ctx, target)} (${cols})${settingsText} ${select}`
}

/**
 * The source table, or a filtered subquery standing for it: `(SELECT * FROM <from> WHERE <predicate>) AS <alias>`
 * (no alias when null: the SELECT aliases the source itself).
 */
export function filteredSource(from: string, predicate: string | undefined, alias: string | null): string {
  if (!predicate) return from
  return `(SELECT * FROM ${from} WHERE ${predicate})${alias === null ? '' : ` AS ${quoteIdentifier(alias, 'table')}`}`
}

/** `remote('<host:port>', '<db>', '<table>')`: a cluster node's table, read from the server flowhouse is connected to. */
export function remoteTable(node: string, database: string, table: string): string {
  return `remote(${sqlString(node)}, ${sqlString(database)}, ${sqlString(table)})`
}
