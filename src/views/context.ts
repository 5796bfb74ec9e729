/**
 * What the parts of the view manager share (manager.ts wires them together): one ClickHouse, the
 * resolved options, the job store (the only writer of job records), the refresh log and the stage
 * logger — and the small derivations of a job that lifecycle.ts, tasks.ts and monitor.ts all need.
 */
import type { Logger } from 'pino'
import type { ClickHouse } from '../clickhouse/client.ts'
import { ddlOptionsFor } from '../clickhouse/ddl.ts'
import { qualifiedName } from '../clickhouse/sql.ts'
import { FlowhouseError, RefreshError, ViewNotFoundError } from '../errors.ts'
import type { ViewDdlContext } from './ddl.ts'
import { objectsOf } from './definition.ts'
import type { JobStore } from './jobs.ts'
import { inferColumns } from './provision.ts'
import type { ViewsOptions } from './options.ts'
import type { RefreshLog } from './refresh-log.ts'
import { localAccess, remoteAccess, type SourceAccess } from './source.ts'
import { renderSource } from './template.ts'
import type { JobStatus, NodeProgress, ViewDefinition, ViewJob, ViewObjects } from './types.ts'

/** The state one manager's parts share; one per database. */
export interface ViewsContext {
  /** The daemon's ClickHouse handle (never closed by the views). */
  readonly ch: ClickHouse
  /** Fully defaulted options (options.ts). */
  readonly options: ViewsOptions
  /** Job records; every change of a job goes through it. */
  readonly jobs: JobStore
  /** Refresh and backfill runs. */
  readonly refreshLog: RefreshLog
  /** The `views` stage logger. */
  readonly log: Logger
}

/** Job statuses of a view being built: its objects, cutoff, backfill or OPTIMIZE FINAL are in progress. */
export const BUILDING: ReadonlySet<JobStatus> = new Set(['creating', 'backfilling', 'optimizing'])

/** FlowhouseError VIEW_CONFLICT (HTTP 409) for one view. */
export function conflict(message: string, view: string): FlowhouseError {
  return new FlowhouseError('VIEW_CONFLICT', message, { context: { view } })
}

/** The job of a view. @throws ViewNotFoundError when there is none. */
export function jobOf(ctx: ViewsContext, name: string): ViewJob {
  const job = ctx.jobs.get(name)
  if (!job) throw new ViewNotFoundError(name)
  return job
}

/** The progress of one node before its backfill starts (no rows counted, no position). */
export function emptyNode(node: string, cutoff: string | null): NodeProgress {
  return { node, cutoff, total_rows: 0, processed_rows: 0, last_position: null, pending_to: null }
}

/** What the DDL of a job's objects needs: the engine's table options and the job's cluster (null on one server). */
export function ddlOf(ctx: ViewsContext, job: ViewJob): ViewDdlContext {
  return { ...ddlOptionsFor(ctx.ch), cluster: job.cluster_name }
}

/** The ClickHouse objects of a job (definition.ts objectsOf with the job's cluster). */
export function jobObjects(job: ViewJob): ViewObjects {
  return objectsOf(job.definition, job.cluster_name)
}

/**
 * How a job reads its source: `all` for the whole source, `nodes` one per node in the order of
 * `job.nodes` (remote() per node when clustered, the local table otherwise).
 */
export function accessesOf(ctx: ViewsContext, job: ViewJob): { all: SourceAccess; nodes: SourceAccess[] } {
  const db = ctx.ch.database
  const src = job.definition.source
  if (!job.cluster_name) return { all: localAccess(db, src), nodes: [localAccess(db, src)] }
  const nodes = job.nodes.map((n) => n.node)
  return { all: remoteAccess(nodes.join(','), db, src), nodes: nodes.map((n) => remoteAccess(n, db, src)) }
}

/**
 * The SELECT's output columns, in order (what a backfill INSERT names): from `DESCRIBE (<select>)`,
 * or the declared target columns on an engine that cannot DESCRIBE a query.
 * @throws RefreshError on such an engine when the view declares no target columns; ClickHouseError
 *   when ClickHouse refuses the SELECT.
 */
export async function selectColumns(ctx: ViewsContext, def: ViewDefinition): Promise<{ names: string[]; columns: Array<{ name: string; type: string }> }> {
  const { ch } = ctx
  const select = renderSource(def.template, qualifiedName(ch.database, def.source))
  if (!ch.capabilities.describeQuery) {
    if (!def.target.columns) throw new RefreshError(`view "${def.name}": ClickHouse ${ch.serverVersion} cannot DESCRIBE a query; declare the target columns`)
    return { names: def.target.columns.map((c) => c.name), columns: def.target.columns }
  }
  const columns = await inferColumns(ch, select)
  return { names: columns.map((c) => c.name), columns }
}
