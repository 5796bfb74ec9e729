/**
 * Provisioning of a materialized view declared by a module and created outside the job records
 * (lifecycle.ts adopts such a view): its target table is reconciled like a pipeline table
 * (src/clickhouse/provision.ts: new columns added, destructive changes refused), and the view is
 * created if missing. An existing view is compared, never replaced: a view whose stored SELECT
 * differs from the declared one is reported (result + warning log) and left as it is —
 * replacing it would drop what it aggregated.
 */
import type { ClickHouse } from '../clickhouse/client.ts'
import { describeExisting } from '../clickhouse/columns.ts'
import { ddlOptionsFor } from '../clickhouse/ddl.ts'
import { provisionTableShape, type TableProvisionResult } from '../clickhouse/provision.ts'
import { queryRows, runCommand } from '../clickhouse/query.ts'
import { sqlString } from '../clickhouse/sql.ts'
import { normalizeSelect } from '../clickhouse/sqltext.ts'
import { ConfigError } from '../errors.ts'
import type { ColumnDef, MaterializedViewLike } from '../model/types.ts'
import { stageLog } from '../util/log.ts'
import { createMaterializedViewSql, targetShape, targetTableSql, viewSelect } from './ddl.ts'

const logger = stageLog('views')

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

/**
 * The output columns of a SELECT, from `DESCRIBE (<select>)`; `-State` combinators give
 * `AggregateFunction(...)` types (e.g. `sumState(delay)` over Int32 → `AggregateFunction(sum, Int32)`).
 * @throws ConfigError when the engine cannot DESCRIBE a query (then declare target.columns), or
 *   when the text is not exactly one statement; ClickHouseError when ClickHouse refuses the SELECT
 *   (e.g. its source table does not exist yet).
 */
export async function inferColumns(ch: ClickHouse, select: string): Promise<ColumnDef[]> {
  if (!ch.capabilities.describeQuery) {
    throw new ConfigError(`ClickHouse ${ch.serverVersion} cannot DESCRIBE a query: declare the view target's columns explicitly`)
  }
  const statement = viewSelect({ name: '(inferColumns)', select })
  const rows = await queryRows<{ name: string; type: string }>(ch, `DESCRIBE (${statement}\n)`)
  return rows.map((r) => ({ name: r.name, type: r.type }))
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

function report(view: string, status: string, drift: string[]): void {
  if (status !== 'unchanged') logger.info({ view, status }, 'view provisioned')
  for (const d of drift) logger.warn({ view, drift: d }, 'view differs from its declaration')
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
  const target = await provisionTableShape(ch, targetShape(view, columns), {
    create: (shape, opts) => targetTableSql(view, shape.columns, { ...opts, cluster: null }),
    context: { view: view.name },
  })
  const result: ViewProvisionResult = { view: view.name, status: 'unchanged', target, select, drift: [], statements: [...target.statements] }
  const existing = await describeExisting(ch, view.name)
  if (!existing) {
    const sql = createMaterializedViewSql(view, columns, ddlOptionsFor(ch)).view
    await runCommand(ch, sql, { view: view.name })
    result.statements.push(sql)
    report(view.name, 'created', [])
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
  report(view.name, result.status === 'select_changed' ? 'unchanged' : result.status, result.drift)
  return result
}
