/**
 * Creates tables, idempotently across restarts (`IF NOT EXISTS`), and reconciles an existing
 * table with its declaration: new columns are added; a removed or retyped column is refused
 * (ConfigError) because it would lose or rewrite data. Pipeline tables here; the targets of
 * materialized views are reconciled the same way by src/views/provision.ts.
 */
import { ConfigError } from '../errors.ts'
import type { OlapTableLike } from '../model/types.ts'
import { stageLog } from '../util/log.ts'
import type { ClickHouse } from './client.ts'
import { describeExisting, diffColumns, type ExistingTable } from './columns.ts'
import { adaptColumns, type TypeFallback } from './compat.ts'
import { addColumnSql, ddlOptionsFor, tableShape, tableSql, type DdlOptions, type TableShape } from './ddl.ts'
import { runCommand } from './query.ts'

const logger = stageLog('clickhouse')

/** Outcome of provisionTable and provisionTableShape (a view's target table). */
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

const VIEW_ENGINES = new Set(['MaterializedView', 'View', 'LiveView', 'WindowView'])

/**
 * The error of a refused destructive change to table `name`: each problem (one sentence naming a
 * column and why), then why flowhouse refuses and how to migrate by hand. Also the message a
 * schema registry writer schema's refused differences are logged with (evolve.ts).
 */
export function destructive(name: string, problems: string[]): ConfigError {
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

async function provisionShape(ch: ClickHouse, declared: TableShape, create: (shape: TableShape, opts: DdlOptions) => string): Promise<TableProvisionResult> {
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
    const sql = create(shape, opts)
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

function report(table: string, status: string, drift: string[], extra: Record<string, unknown>): void {
  if (status !== 'unchanged') logger.info({ table, status, ...extra }, 'table provisioned')
  for (const d of drift) logger.warn({ table, drift: d }, 'table differs from its declaration')
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
  return provisionTableShape(ch, tableShape(table))
}

/**
 * provisionTable for any MergeTree-family shape, e.g. a materialized view's target table.
 * @param options.create the CREATE statement of the shape (its columns as the server stores
 *   them); tableSql by default.
 * @param options.context extra fields of the log line (e.g. `{ view }`).
 * @throws as provisionTable.
 */
export async function provisionTableShape(
  ch: ClickHouse,
  shape: TableShape,
  options: { create?: (shape: TableShape, opts: DdlOptions) => string; context?: Record<string, unknown> } = {},
): Promise<TableProvisionResult> {
  const result = await provisionShape(ch, shape, options.create ?? tableSql)
  report(shape.name, result.status, result.drift, { added: result.addedColumns, ...options.context })
  return result
}
