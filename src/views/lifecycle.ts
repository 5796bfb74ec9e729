/**
 * The life of a view's objects: creation (from a module or from POST /api/mv) and drop.
 *
 *   create  → job `creating`: target table (and Distributed table, query view), then the cutoff
 *             and the MV (cutoff.ts), job `backfilling` → the backfill runs in the background
 *             (tasks.ts). A source without rows goes straight to `completed`; `backfill: false`
 *             stops at `pending`. Scheduled and manual views get their first refresh instead.
 *   drop    → MV (first, so nothing more is written), query view, Distributed table and target,
 *             leftovers of an interrupted swap, then the job and its refresh log.
 *
 * A module's view cannot be dropped through the API while the module declares it; a view the API
 * created has its SELECT judged by the SQL sandbox before any DDL.
 */
import { checkSandboxed, queryRows, runCommand } from '../clickhouse/query.ts'
import { qualifiedName, sqlString } from '../clickhouse/sql.ts'
import { FlowhouseError } from '../errors.ts'
import { mergeSelect } from '../model/declarative.ts'
import type { MaterializedViewLike } from '../model/types.ts'
import { countUpTo } from './backfill.ts'
import { resolveCluster, type ClusterInfo } from './cluster.ts'
import { accessesOf, conflict, ddlOf, emptyNode, jobObjects, selectColumns, type ViewsContext } from './context.ts'
import { takeCutoff } from './cutoff.ts'
import { distributedTableSql, dropSql, enableBlockNumbersSql, materializedViewSql, qn, queryViewSql, targetTableSql, truncateSql } from './ddl.ts'
import { definitionFromModule, objectsOf, sameDefinition } from './definition.ts'
import { withTotals } from './jobs.ts'
import { provisionView } from './provision.ts'
import { NEW_SUFFIX, OLD_SUFFIX } from './refresh.ts'
import { chooseWatermark, positionSql, watermarkExpr, type SourceAccess } from './source.ts'
import type { ViewTasks } from './tasks.ts'
import { renderSource, withSourceFilter } from './template.ts'
import type { ViewDefinition, ViewJob, Watermark } from './types.ts'

/** Creation and drop of views (see the top of this file). */
export class ViewLifecycle {
  readonly #ctx: ViewsContext
  readonly #tasks: ViewTasks
  /** Names being created (so that two requests for one name do not race). */
  readonly #creating = new Set<string>()
  /** Views declared by a module this daemon runs now → its file (such a view cannot be dropped through the API). */
  readonly #declared = new Map<string, string>()

  /**
   * @param ctx the manager's shared state.
   * @param tasks where backfills, schedules and refreshes run.
   */
  constructor(ctx: ViewsContext, tasks: ViewTasks) {
    this.#ctx = ctx
    this.#tasks = tasks
  }

  /**
   * Provisions a view declared in a module. A new view is created with the two-phase backfill (the
   * cutoff and MV now, the backfill in the background); a known one is left as it is, with a
   * warning when its declaration changed; an MV created by an earlier flowhouse without a job is
   * adopted (provisionView's rules) as completed. Logs the view's notes (e.g. a refresh mode
   * forced by a non-incremental function).
   * @throws ConfigError for a definition ClickHouse cannot take; ClickHouseError; RefreshError
   *   when no clean cutoff could be taken.
   */
  async provisionModuleView(view: MaterializedViewLike, file: string): Promise<ViewJob> {
    const { ch, jobs, log } = this.#ctx
    for (const note of view.notes ?? []) log.warn({ view: view.name, module: file }, note)
    const def = definitionFromModule(view, ch.database, 'module', file)
    this.#declared.set(def.name, file)
    const existing = jobs.get(def.name)
    if (existing) {
      if (!sameDefinition(existing.definition, def)) {
        log.warn(
          { view: def.name, module: file },
          'the view is declared differently from the one running; left unchanged so no aggregated data is lost (to apply the new declaration, give the view a new name, or take it out of the module, drop it with DELETE /api/mv/<name>, and declare it again)',
        )
      }
      return existing
    }
    const objects = objectsOf(def, null)
    if (!view.declarative && def.refresh.mode === 'streaming' && (await this.#exists(objects.mv as string))) {
      // A view created before flowhouse kept job records: reconcile it like before and adopt it.
      await provisionView(ch, view)
      const now = new Date().toISOString()
      const job = this.#newJob(def, null, { kind: 'insert_order', column: null, type: null }, now)
      return jobs.save({ ...job, status: 'completed', nodes: [emptyNode('local', null)] })
    }
    return this.create(def)
  }

  /**
   * Creates a view (from a module or POST /api/mv): objects, cutoff and MV now; the backfill in
   * the background. Scheduled and manual views get their first refresh now.
   * @returns the job (status `backfilling`, `completed` or `pending`).
   * @throws FlowhouseError VIEW_CONFLICT when the name or one of its tables is taken;
   *   ConfigError for a bad definition or cluster; RefreshError when no clean cutoff could be
   *   taken; ClickHouseError.
   */
  async create(def: ViewDefinition): Promise<ViewJob> {
    const { ch, jobs, log, options } = this.#ctx
    if (def.origin === 'api') await this.#checkCallerSelect(def)
    if (jobs.get(def.name) || this.#creating.has(def.name)) throw conflict(`materialized view "${def.name}" already exists; drop it first (DELETE /api/mv/${def.name})`, def.name)
    this.#creating.add(def.name)
    try {
      const requested = def.cluster ?? options.cluster
      const cluster = def.refresh.mode === 'streaming' ? await resolveCluster(ch, requested) : null
      const objects = objectsOf(def, cluster?.name ?? null)
      for (const name of [objects.mv, objects.target, objects.queryView, objects.dist]) {
        if (name && (await this.#exists(name))) throw conflict(`cannot create view "${def.name}": a table or view named "${name}" already exists in database ${ch.database}`, def.name)
      }
      const needsWatermark = def.refresh.mode === 'streaming' || def.refresh.strategy === 'append'
      const watermark = needsWatermark ? await chooseWatermark(ch, ch.database, def.source, def.watermark, cluster !== null) : { kind: 'insert_order' as const, column: null, type: null }
      const now = new Date().toISOString()
      let job = this.#newJob(def, cluster, watermark, now)
      job = await jobs.save(job)
      log.info({ view: def.name, source: def.source, mode: def.refresh.mode, cluster: cluster?.name ?? null, watermark }, 'creating materialized view')
      const created = await this.build(job, undefined)
      if (created.status === 'backfilling') this.#tasks.startBackfill(created.name)
      if (def.refresh.mode === 'scheduled') this.#tasks.schedule(def)
      return created
    } catch (error) {
      await this.#discard(def.name, error)
      throw error
    } finally {
      this.#creating.delete(def.name)
    }
  }

  /** Forgets the views a module declared (it left the pipelines folder): they can be dropped through the API again. */
  moduleRemoved(file: string): void {
    for (const [name, declaredBy] of this.#declared) if (declaredBy === file) this.#declared.delete(name)
  }

  /**
   * Refuses a drop through the API of a view a running module declares.
   * @throws FlowhouseError VIEW_CONFLICT (HTTP 409) naming the module, for `caller: 'api'` only.
   */
  checkDrop(name: string, caller: 'api' | 'daemon' | undefined): void {
    const module = this.#declared.get(name)
    if (caller === 'api' && module !== undefined) {
      throw new FlowhouseError('VIEW_CONFLICT', `materialized view "${name}" is declared by the module ${module}: it cannot be dropped through the API while the module declares it; take the view out of the module (hot reload applies it), then drop it`, {
        context: { view: name, module },
      })
    }
  }

  /**
   * Drops a view's objects (ON CLUSTER when clustered) and leftovers of an interrupted swap, then
   * its job record and refresh log. Its tasks must be stopped first.
   * @returns the objects dropped.
   * @throws ClickHouseError (the job is kept so the drop can be retried).
   */
  async drop(job: ViewJob): Promise<string[]> {
    const { ch, jobs, refreshLog } = this.#ctx
    const name = job.name
    const objects = jobObjects(job)
    const ctx = ddlOf(this.#ctx, job)
    const names = [objects.mv, objects.queryView, objects.dist, objects.target].filter((x): x is string => typeof x === 'string')
    for (const object of names) await runCommand(ch, dropSql(object, ctx), { view: name })
    for (const leftover of [`${job.target_table}${NEW_SUFFIX}`, `${job.target_table}${OLD_SUFFIX}`]) {
      await runCommand(ch, dropSql(leftover, { database: ch.database, cluster: null }), { view: name }).catch(() => undefined)
    }
    await jobs.remove(name)
    await refreshLog.forget(name)
    return names
  }

  /**
   * Creates (or, after a restart in `creating`, re-creates) the objects and takes the cutoff.
   * Scheduled and manual views: the objects and a first refresh.
   * @returns the saved job: `backfilling`, `pending` (no backfill asked) or `completed`.
   * @throws QueryError for an API view's SELECT the sandbox refuses; RefreshError when no clean
   *   cutoff could be taken or the first refresh failed; ClickHouseError.
   */
  async build(job: ViewJob, signal: AbortSignal | undefined): Promise<ViewJob> {
    const { ch, jobs, refreshLog, log, options } = this.#ctx
    const def = job.definition
    if (def.origin === 'api') await this.#checkCallerSelect(def)
    const ctx = ddlOf(this.#ctx, job)
    const objects = jobObjects(job)
    const { columns } = await selectColumns(this.#ctx, def)
    job.statements = []
    await this.#run(job, targetTableSql(def, def.target.columns ?? columns, ctx))
    if (objects.dist) await this.#run(job, distributedTableSql(objects.dist, def.target.name, ctx))
    if (def.declarative) await this.#run(job, queryViewSql(def.declarative.queryView, mergeSelect(def.declarative, qn(ctx, objects.dist ?? def.target.name)), ctx))
    if (job.watermark.kind === 'insert_order' && (def.refresh.mode === 'streaming' || def.refresh.strategy === 'append')) {
      await this.#run(job, enableBlockNumbersSql(def.source, ctx))
    }
    if (def.refresh.mode !== 'streaming') {
      job = await jobs.save(job)
      await this.#tasks.refreshNow(job.name, true)
      return jobs.get(job.name) as ViewJob
    }
    const access = accessesOf(this.#ctx, job)
    const mv = objects.mv as string
    let mvSql = ''
    const { cutoff, attempts } = await takeCutoff({
      ch,
      database: ch.database,
      source: def.source,
      watermark: job.watermark,
      all: access.all,
      nodes: access.nodes,
      create: async (c) => {
        mvSql = materializedViewSql(mv, def.target.name, this.#mvSelect(job, c), ctx)
        await runCommand(ch, mvSql, { view: def.name })
      },
      undo: async () => {
        await runCommand(ch, dropSql(mv, ctx), { view: def.name })
        await runCommand(ch, truncateSql(def.target.name, ctx), { view: def.name })
      },
      attempts: options.cutoffAttempts,
      drainTimeoutMs: options.drainTimeoutMs,
      log,
      ...(signal ? { signal } : {}),
    })
    job.statements.push(mvSql)
    job.cutoff = cutoff
    job.nodes = job.nodes.map((n) => emptyNode(n.node, cutoff))
    if (cutoff !== null) {
      for (const [i, node] of job.nodes.entries()) node.total_rows = await countUpTo(ch, access.nodes[i] as SourceAccess, job.watermark, cutoff)
    }
    job.status = cutoff === null ? 'completed' : def.backfill ? 'backfilling' : 'pending'
    job.error_message = null
    job = await jobs.save(job)
    log.info({ view: def.name, cutoff, attempts, watermark: job.watermark.kind }, cutoff === null ? 'materialized view created over an empty source' : 'materialized view created; backfilling the rows up to the cutoff')
    if (job.status === 'completed') {
      await refreshLog.record({ view: def.name, kind: 'backfill', status: 'ok', startedAt: Date.parse(job.created_at), durationMs: Date.now() - Date.parse(job.created_at), rows: 0 })
    }
    return job
  }

  /**
   * The SELECT of a view created through the API (its select_query, or the SELECT its filter,
   * group_by and compute generate), over its source, judged by the SQL sandbox before any DDL:
   * no table functions, no file or network functions, only flowhouse's tables.
   * @throws QueryError (HTTP 400) naming the rule.
   */
  async #checkCallerSelect(def: ViewDefinition): Promise<void> {
    await checkSandboxed(this.#ctx.ch, renderSource(def.template, qualifiedName(this.#ctx.ch.database, def.source)))
  }

  /** Undoes a creation that failed: drops what was created and forgets the job, so the request can be repeated. */
  async #discard(name: string, error: unknown): Promise<void> {
    const { ch, jobs, log } = this.#ctx
    const job = jobs.get(name)
    if (!job || job.status !== 'creating') return
    log.warn({ view: name, err: error }, 'creating the view failed; dropping what was created')
    const objects = jobObjects(job)
    for (const object of [objects.mv, objects.queryView, objects.dist, objects.target]) {
      if (object) await runCommand(ch, dropSql(object, ddlOf(this.#ctx, job))).catch(() => undefined)
    }
    await jobs.remove(name).catch(() => undefined)
  }

  #newJob(def: ViewDefinition, cluster: ClusterInfo | null, watermark: Watermark, now: string): ViewJob {
    return withTotals({
      id: this.#ctx.jobs.nextId(),
      name: def.name,
      source_table: def.source,
      target_table: def.target.name,
      status: 'creating',
      cluster_name: cluster?.name ?? null,
      nodes: (cluster ? cluster.nodes : ['local']).map((n) => emptyNode(n, null)),
      watermark,
      cutoff: null,
      total_rows: 0,
      processed_rows: 0,
      last_position: null,
      progress_percent: 0,
      source_version: null,
      attempts: 0,
      statements: [],
      error_message: null,
      definition: def,
      created_at: now,
      updated_at: now,
    })
  }

  async #exists(name: string): Promise<boolean> {
    const { ch } = this.#ctx
    const rows = await queryRows(ch, `SELECT 1 FROM system.tables WHERE database = ${sqlString(ch.database)} AND name = ${sqlString(name)}`)
    return rows.length > 0
  }

  async #run(job: ViewJob, sql: string, record = true): Promise<void> {
    await runCommand(this.#ctx.ch, sql, { view: job.name })
    if (record) job.statements.push(sql)
  }

  /** The MV's SELECT for a cutoff: over the source, with `WHERE column > cutoff` added for a column watermark. */
  #mvSelect(job: ViewJob, cutoff: string | null): string {
    const def = job.definition
    const ctx = ddlOf(this.#ctx, job)
    if (cutoff === null || job.watermark.kind !== 'column') return renderSource(def.template, qn(ctx, def.source))
    return renderSource(withSourceFilter(def.template, `${watermarkExpr(job.watermark)} > ${positionSql(cutoff, job.watermark)}`), qn(ctx, def.source))
  }
}
