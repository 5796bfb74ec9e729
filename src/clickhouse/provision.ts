/**
 * Creates tables and materialized views, idempotently across restarts (`IF NOT EXISTS`), and
 * reconciles an existing table with its declaration: new columns are added; a removed or
 * retyped column is refused (ConfigError) because it would lose or rewrite data. A view whose
 * stored SELECT differs from the declared one is reported (result + warning log) and left as
 * it is — replacing it would drop what it aggregated.
 */
import { ConfigError } from '../errors.ts'
import type { MaterializedViewLike, OlapTableLike } from '../model/types.ts'
import { stageLog } from '../util/log.ts'
import type { ClickHouse } from './client.ts'
import { describeExisting, diffColumns, type ExistingTable } from './columns.ts'
import { adaptColumns, type TypeFallback } from './compat.ts'
import { addColumnSql, createMaterializedViewSql, ddlOptionsFor, inferColumns, tableShape, tableSql, targetShape, viewSelect, type TableShape } from './ddl.ts'
import { queryRows, runCommand } from './query.ts'
import { sqlString } from './sql.ts'
import { normalizeSelect } from './sqltext.ts'

const logger = stageLog('clickhouse')

/** Outcome of provisionTable (and of a view's target table). */
export interface TableProvisionResult {
  table: string
  /** `created` now, `altered` (columns added) or `unchanged`. */
  status: 'created' | 'altered' | 'unchanged'
  /** Columns added with ALTER TABLE ADD COLUMN. */
  addedColumns: string[]
  /** Differences flowhouse reports but does not change: engine, ORDER BY. */
  drift: string[]
  /** SQL statements run, in order. */
  statements: string[]
  /** Columns stored with the nearest type an older server has (compat.ts), e.g. DateTime64 → DateTime. */
  typeFallbacks: TypeFallback[]
}

/** Outcome of provisionView. */
export interface ViewProvisionResult {
  view: string
  /** `created` now, `unchanged`, or `select_changed`: the stored SELECT differs and was left as it is. */
  status: 'created' | 'unchanged' | 'select_changed'
  target: TableProvisionResult
  /** The declared SELECT. */
  select: string
  /** The SELECT stored in ClickHouse, when the view existed. */
  existingSelect?: string
  /** Differences reported but not changed (e.g. the view writes to another table). */
  drift: string[]
  statements: string[]
}

const VIEW_ENGINES = new Set(['MaterializedView', 'View', 'LiveView', 'WindowView'])

function destructive(name: string, problems: string[]): ConfigError {
  return new ConfigError(
    `table "${name}": refusing a destructive change: ${problems.join('; ')}. flowhouse only adds columns; it never drops or retypes one because that loses or rewrites data. Migrate the table by hand (ALTER TABLE ... DROP/MODIFY COLUMN) or give the table a new name.`,
    { table: name },
  )
}

/** A stored sorting key as `a,b`: no quotes or spaces, one wrapping pair of parentheses removed, `tuple()` empty. */
export function sortingKeyText(key: string): string {
  let k = key.replace(/[`\s]/g, '')
  if (k === 'tuple()') return ''
  if (k.startsWith('(') && k.endsWith(')')) {
    let depth = 0
    let wraps = true
    for (let i = 0; i < k.length - 1; i++) {
      depth += k[i] === '(' ? 1 : k[i] === ')' ? -1 : 0
      if (depth === 0) wraps = false
    }
    if (wraps) k = k.slice(1, -1)
  }
  return k
}

function driftOf(existing: ExistingTable, shape: TableShape): string[] {
  const drift: string[] = []
  if (existing.engine !== shape.engine) drift.push(`engine is ${existing.engine} in ClickHouse, declared ${shape.engine} (not changed)`)
  const have = sortingKeyText(existing.sortingKey)
  const want = shape.orderByFields.join(',')
  if (have !== want) drift.push(`ORDER BY is (${existing.sortingKey}) in ClickHouse, declared (${shape.orderByFields.join(', ')}) (not changed)`)
  return drift
}

async function provisionShape(ch: ClickHouse, declared: TableShape): Promise<TableProvisionResult> {
  const name = declared.name
  const { columns, fallbacks } = adaptColumns(name, declared.columns, ch.capabilities.missingTypes, ch.serverVersion)
  for (const f of fallbacks) {
    logger.warn({ table: name, column: f.column, declared: f.declared, used: f.used }, `ClickHouse ${ch.serverVersion} lacks the type of column "${f.column}": stored as ${f.used} instead of ${f.declared} (${f.note})`)
  }
  const shape = { ...declared, columns }
  const opts = ddlOptionsFor(ch)
  const result: TableProvisionResult = { table: name, status: 'unchanged', addedColumns: [], drift: [], statements: [], typeFallbacks: fallbacks }
  const existing = await describeExisting(ch, name)
  if (!existing) {
    const sql = tableSql(shape, opts)
    await runCommand(ch, sql, { table: name })
    return { ...result, status: 'created', statements: [sql] }
  }
  if (VIEW_ENGINES.has(existing.engine)) {
    throw new ConfigError(`table "${name}": a ${existing.engine} of that name already exists in database ${ch.database}; rename the table or drop the view`, { table: name })
  }
  const diff = diffColumns(existing.columns, shape.columns)
  if (diff.problems.length > 0) throw destructive(name, diff.problems)
  result.drift = driftOf(existing, shape)
  for (const column of diff.add) {
    const sql = addColumnSql(ch.database, name, column)
    try {
      await runCommand(ch, sql, { table: name, field: column.name })
    } catch (error) {
      // Another process may have added it meanwhile; accept that if the type matches.
      const now = await describeExisting(ch, name)
      const again = now ? diffColumns(now.columns, shape.columns) : undefined
      if (!again || again.add.some((c) => c.name === column.name) || again.problems.length > 0) throw error
      continue
    }
    result.statements.push(sql)
    result.addedColumns.push(column.name)
  }
  if (result.addedColumns.length > 0) result.status = 'altered'
  return result
}

function report(kind: 'table' | 'view', name: string, status: string, drift: string[], extra: Record<string, unknown> = {}): void {
  if (status !== 'unchanged') logger.info({ [kind]: name, status, ...extra }, `${kind} provisioned`)
  for (const d of drift) logger.warn({ [kind]: name, drift: d }, `${kind} differs from its declaration`)
}

/**
 * Creates a pipeline table if missing (createTableSql), or adds its new columns.
 * @returns what was done, with the SQL run.
 * On an older server a column type it lacks is replaced by the nearest one (logged as a warning
 * per column, listed in `typeFallbacks`) or refused (compat.ts).
 * @throws ConfigError when a column would be removed or retyped (the message names each column
 *   and why), when its type does not exist on the server and has no stand-in, when a view holds the name, or for invalid names; ClickHouseError when ClickHouse fails.
 */
export async function provisionTable(ch: ClickHouse, table: OlapTableLike): Promise<TableProvisionResult> {
  const result = await provisionShape(ch, tableShape(table))
  report('table', table.name, result.status, result.drift, { added: result.addedColumns })
  return result
}

/** The SELECT part of a stored `CREATE MATERIALIZED VIEW ... TO ... (cols) AS SELECT ...`. */
export function storedSelect(createQuery: string): string {
  const m = /\sAS\s+(?=SELECT\b|WITH\b|\()/i.exec(createQuery)
  return m ? createQuery.slice(m.index + m[0].length).trim() : createQuery
}

function storedTarget(createQuery: string): string | undefined {
  return /\sTO\s+((?:`[^`]+`|[\w-]+)(?:\.(?:`[^`]+`|[\w-]+))?)/i.exec(createQuery)?.[1]?.replace(/`/g, '')
}

async function sameSelect(ch: ClickHouse, stored: string, declared: string): Promise<boolean> {
  let [a, b] = [stored, declared]
  if (ch.capabilities.formatQuery) {
    try {
      const [row] = await queryRows<{ a: string; b: string }>(ch, `SELECT formatQuery(${sqlString(a)}) AS a, formatQuery(${sqlString(b)}) AS b`)
      if (row) [a, b] = [row.a, row.b]
    } catch {
      /* fall back to the lexical comparison */
    }
  }
  return normalizeSelect(a, ch.database) === normalizeSelect(b, ch.database)
}

/**
 * Creates a materialized view and its target table if missing: target columns are
 * `view.target.columns` or inferred with `DESCRIBE (<select>)`; the target is reconciled like a
 * table. An existing view is compared, never replaced: a different SELECT gives
 * `status: 'select_changed'` and a warning log.
 * @throws ConfigError as provisionTable, or when a non-view object holds the view's name;
 *   ClickHouseError when ClickHouse fails (e.g. the SELECT's source table does not exist yet).
 */
export async function provisionView(ch: ClickHouse, view: MaterializedViewLike): Promise<ViewProvisionResult> {
  const select = viewSelect(view)
  const columns = view.target.columns ?? (await inferColumns(ch, select))
  const target = await provisionShape(ch, targetShape(view, columns))
  report('table', view.target.name, target.status, target.drift, { added: target.addedColumns, view: view.name })
  const result: ViewProvisionResult = { view: view.name, status: 'unchanged', target, select, drift: [], statements: [...target.statements] }
  const existing = await describeExisting(ch, view.name)
  if (!existing) {
    const sql = createMaterializedViewSql(view, columns, ddlOptionsFor(ch)).view
    await runCommand(ch, sql, { view: view.name })
    result.statements.push(sql)
    report('view', view.name, 'created', [])
    return { ...result, status: 'created' }
  }
  if (existing.engine !== 'MaterializedView') {
    throw new ConfigError(`view "${view.name}": a ${existing.engine} of that name already exists in database ${ch.database}; rename the view or drop the other object`, { view: view.name })
  }
  result.existingSelect = storedSelect(existing.createQuery)
  const to = storedTarget(existing.createQuery)
  if (to !== undefined && to !== `${ch.database}.${view.target.name}` && to !== view.target.name) {
    result.drift.push(`writes to ${to} in ClickHouse, declared ${view.target.name} (not changed)`)
  }
  if (!(await sameSelect(ch, result.existingSelect, select))) {
    result.status = 'select_changed'
    logger.warn(
      { view: view.name, stored: result.existingSelect, declared: select },
      'materialized view SELECT differs from its declaration; left unchanged so no aggregated data is lost (drop and backfill it deliberately to apply the change)',
    )
  }
  report('view', view.name, result.status === 'select_changed' ? 'unchanged' : result.status, result.drift)
  return result
}
