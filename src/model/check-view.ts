/**
 * Rules for materialized views. Used by the MaterializedView constructor and by
 * checkDefinitions.
 */
import { checkEngine, checkSettings } from './check-table.ts'
import { checkIdentifier, configError, describe, quoteList, type Owner } from './config-error.ts'
import type { MaterializedViewLike } from './types.ts'

/**
 * Checks a view with its source resolved to a table object or a table name: name; select
 * starts with SELECT or WITH; source is a table or a table name; target name differs from
 * the view and the source; target engine; target orderByFields is a non-empty list of
 * column names (of `columns`, when given); columns and settings well formed.
 * Throws ConfigError on the first violation.
 */
export function checkView(view: MaterializedViewLike): void {
  const owner: Owner = { kind: 'view', name: view.name }
  checkIdentifier(owner, undefined, view.name, 'the name')
  if (typeof view.select !== 'string' || !/^\s*(SELECT|WITH)\b/i.test(view.select)) {
    throw configError(owner, { option: 'select' }, 'view', `must be a SELECT statement (got ${describe(view.select)})`, 'write the query as SELECT ... FROM <source> (or WITH ... SELECT ...)')
  }
  const source = typeof view.source === 'string' ? view.source : view.source?.kind === 'table' ? view.source.name : undefined
  if (source === undefined) {
    throw configError(owner, { option: 'source' }, 'view', `must be an OlapTable, a pipeline with a table, or a table name (got ${describe(view.source)})`, 'pass the table the SELECT reads from')
  }
  checkIdentifier(owner, { option: 'source' }, source, 'the source table name')
  checkTarget(owner, view, source)
}

function checkTarget(owner: Owner, view: MaterializedViewLike, source: string): void {
  const target: Partial<MaterializedViewLike['target']> | undefined = view.target
  if (typeof target !== 'object' || target === null) {
    throw configError(owner, { option: 'target' }, 'view', `must be an object (got ${describe(target)})`, "pass target: { name, orderByFields, engine? }")
  }
  checkIdentifier(owner, { option: 'target.name' }, target.name, 'the target table name')
  if (target.name === view.name || target.name === source) {
    const other = target.name === view.name ? 'the view name' : 'the source table'
    throw configError(owner, { option: 'target.name' }, 'view', `the target table must differ from ${other} (got "${target.name}")`, 'give the target table its own name, e.g. "' + `${view.name}_target` + '"')
  }
  checkEngine(owner, target.engine, 'target.engine')
  const orderBy: unknown = target.orderByFields
  if (!Array.isArray(orderBy) || orderBy.length === 0) {
    throw configError(owner, { option: 'target.orderByFields' }, 'order-by', `must be a non-empty array of column names (got ${describe(orderBy)})`, 'list the columns the target is ordered by, e.g. the GROUP BY columns')
  }
  for (const field of orderBy) checkColumnName(owner, 'target.orderByFields', field)
  if (target.columns !== undefined) checkColumns(owner, target.columns, orderBy as string[])
  checkSettings(owner, target.settings, 'target.settings')
}

function checkColumns(owner: Owner, columns: unknown, orderBy: string[]): void {
  const valid = Array.isArray(columns) && columns.length > 0 && columns.every((column) => typeof column?.type === 'string' && column.type.trim() !== '')
  if (!valid) {
    throw configError(owner, { option: 'target.columns' }, 'view', `must be a non-empty array of { name, type } (got ${describe(columns)})`, "e.g. columns: [{ name: 'origin', type: 'String' }], or leave it out to infer them from the SELECT")
  }
  const names = (columns as { name: unknown }[]).map((column) => column.name)
  for (const name of names) checkColumnName(owner, 'target.columns', name)
  const missing = orderBy.find((field) => !names.includes(field))
  if (missing !== undefined) {
    throw configError(owner, { option: 'target.orderByFields' }, 'order-by', `"${missing}" is not one of the target columns`, `use columns from ${quoteList(names as string[])}, or add "${missing}" to target.columns`)
  }
}

/** Column names are any non-empty text (they are quoted in SQL). Throws ConfigError (rule `name`). */
function checkColumnName(owner: Owner, option: string, name: unknown): void {
  if (typeof name === 'string' && name !== '') return
  throw configError(owner, { option }, 'name', `column names must be non-empty strings (got ${describe(name)})`, 'name each column')
}
