/**
 * What exists in ClickHouse (system.tables, system.columns) and how it differs from what a
 * module declares. flowhouse only ever adds columns: a removed or retyped column is reported
 * as a problem and provisioning refuses it, because ClickHouse would drop or rewrite data.
 */
import type { ColumnDef } from '../model/types.ts'
import type { ClickHouse } from './client.ts'
import { queryRows } from './query.ts'
import { sqlString } from './sql.ts'

/**
 * Start of the comment on a column added for a schema registry writer schema (schema evolution:
 * clickhouse/evolve.ts). Such a column is kept, not reported "no longer declared", when the
 * module does not declare it.
 */
export const EVOLVED_COMMENT = 'flowhouse: added for schema registry schema id'

/** A column as system.columns lists it. */
export interface ExistingColumn {
  name: string
  type: string
  /** '' | 'DEFAULT' | 'MATERIALIZED' | 'ALIAS' | 'EPHEMERAL'. */
  defaultKind: string
  /** The column comment ('' when none). */
  comment?: string
}

/** A table or view as system.tables lists it. */
export interface ExistingTable {
  /** e.g. `MergeTree`, `SummingMergeTree`, `MaterializedView`. */
  engine: string
  /** ORDER BY key as ClickHouse prints it (`a, b`); '' for views and `tuple()`. */
  sortingKey: string
  /** The full CREATE statement ClickHouse stored. */
  createQuery: string
  /** Columns in table order. */
  columns: ExistingColumn[]
}

/**
 * Reads a table or view from system.tables / system.columns (works on 18.16: no parameters,
 * no `position` column).
 * @returns undefined when nothing of that name exists in the database.
 * @throws ClickHouseError when ClickHouse cannot be queried.
 */
export async function describeExisting(ch: ClickHouse, name: string): Promise<ExistingTable | undefined> {
  const where = `database = ${sqlString(ch.database)} AND`
  const [table] = await queryRows<{ engine: string; sorting_key: string; create_table_query: string }>(
    ch,
    `SELECT engine, sorting_key, create_table_query FROM system.tables WHERE ${where} name = ${sqlString(name)}`,
  )
  if (!table) return undefined
  const columns = await queryRows<{ name: string; type: string; default_kind: string; comment: string }>(
    ch,
    `SELECT name, type, default_kind, comment FROM system.columns WHERE ${where} table = ${sqlString(name)}`,
  )
  return {
    engine: table.engine,
    sortingKey: table.sorting_key,
    createQuery: table.create_table_query,
    columns: columns.map((c) => ({ name: c.name, type: c.type, defaultKind: c.default_kind, comment: c.comment })),
  }
}

/** A type with whitespace outside quotes removed, so `Decimal(10,2)` equals `Decimal(10, 2)`. */
export function normalizeType(type: string): string {
  return type.replace(/('(?:[^'\\]|\\.)*')|\s+/g, (_m, quoted: string | undefined) => quoted ?? '')
}

/** Difference between existing and declared columns. */
export interface ColumnDiff {
  /** Declared columns that do not exist yet, in declaration order: added with ALTER TABLE ADD COLUMN. */
  add: ColumnDef[]
  /** Destructive differences, one sentence each (which column and why). */
  problems: string[]
}

/**
 * Compares declared columns with existing ones. Columns ClickHouse computes itself
 * (MATERIALIZED, ALIAS) and columns added by schema evolution (comment starting with
 * EVOLVED_COMMENT) that are not declared are left alone.
 */
export function diffColumns(existing: readonly ExistingColumn[], wanted: readonly ColumnDef[]): ColumnDiff {
  const byName = new Map(existing.map((c) => [c.name, c]))
  const declared = new Set(wanted.map((c) => c.name))
  const add: ColumnDef[] = []
  const problems: string[] = []
  for (const column of wanted) {
    const found = byName.get(column.name)
    if (!found) add.push(column)
    else if (normalizeType(found.type) !== normalizeType(column.type)) {
      problems.push(`column "${column.name}" is ${found.type} in ClickHouse but is declared as ${column.type}`)
    }
  }
  for (const column of existing) {
    if (declared.has(column.name) || column.defaultKind === 'MATERIALIZED' || column.defaultKind === 'ALIAS' || column.comment?.startsWith(EVOLVED_COMMENT)) continue
    problems.push(`column "${column.name}" exists in ClickHouse but is no longer declared`)
  }
  return { add, problems }
}
