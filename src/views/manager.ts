/**
 * ViewManager: the materialized views of one ClickHouse database (embedded or server), as the
 * HTTP routes (http/mv.ts) and the daemon use them. A facade over its parts:
 *
 *   lifecycle.ts  create (module and API views) and drop
 *   tasks.ts      backfills, rebuilds, jobs resumed after a restart, scheduled and manual refreshes
 *   monitor.ts    statuses and the staleness gauges
 *   context.ts    what they share: ClickHouse, options, job store, refresh log, logger
 *
 *   create   → job `creating` → `backfilling` → `optimizing` → `completed` (lifecycle.ts).
 *   restart  → unfinished jobs resume where their progress says (a `creating` job starts its
 *              cutoff again; a `backfilling` one continues after its last position).
 *   refresh  → scheduled (cron) and manual views: replace (rebuild + atomic swap) or append;
 *              a streaming view's full refresh rebuilds it with a new cutoff.
 *   drop     → MV, query view, Distributed table and target, then the job and its refresh log.
 *
 * One manager per database; it is the only writer of the job records.
 */
import type { ClickHouse } from '../clickhouse/client.ts'
import { queryReadonly, type Row } from '../clickhouse/query.ts'
import { RefreshError } from '../errors.ts'
import type { MaterializedViewLike } from '../model/types.ts'
import { stageLog } from '../util/log.ts'
import { BUILDING, emptyNode, jobObjects, jobOf, type ViewsContext } from './context.ts'
import { columnsOf, viewMetadata, viewStatistics, type ViewMetadata, type ViewStatistics } from './inspect.ts'
import { JobStore } from './jobs.ts'
import { ViewLifecycle } from './lifecycle.ts'
import { StatusMonitor } from './monitor.ts'
import { VIEWS_DEFAULTS, type ViewsOptions } from './options.ts'
import { buildViewQuery, type ViewQueryRequest } from './query/builder.ts'
import { EMPTY_SUMMARY, RefreshLog } from './refresh-log.ts'
import { ViewTasks } from './tasks.ts'
import type { JobStatus, RefreshSummary, ViewDefinition, ViewJob, ViewStatus } from './types.ts'

/** One view as GET /api/mv lists it. */
export interface ViewSummary {
  name: string
  origin: 'module' | 'api'
  source_table: string
  target_table: string
  refresh_mode: ViewDefinition['refresh']['mode']
  status: JobStatus
  progress_percent: number
  state: ViewStatus['state']
  cluster_name: string | null
}

/** Everything GET /api/mv/:name returns. */
export interface ViewDetails {
  job: ViewJob
  status: ViewStatus
  refresh_log: RefreshSummary
  next_refresh: string | null
  metadata: ViewMetadata
  statistics: ViewStatistics
}

/** What POST /api/mv/:name/refresh returns. */
export interface RefreshResult {
  view: string
  kind: 'full' | 'incremental' | 'rebuild' | 'none'
  rows: number
  duration_ms: number
  status: ViewStatus
  job: ViewJob
  message?: string
}

/** The materialized views of one ClickHouse database (see the top of this file). */
export class ViewManager {
  readonly options: ViewsOptions
  readonly #ctx: ViewsContext
  readonly #tasks: ViewTasks
  readonly #lifecycle: ViewLifecycle
  readonly #monitor: StatusMonitor
  #stopping: Promise<void> | undefined

  /**
   * @param ch the daemon's ClickHouse handle (the manager never closes it).
   * @param options manager options (the daemon passes DaemonConfig.views, resolved from the
   *   FLOWHOUSE_MV_* variables by config.ts); VIEWS_DEFAULTS for what is not given. The manager
   *   reads no environment variable itself.
   */
  constructor(ch: ClickHouse, options: Partial<ViewsOptions> = {}) {
    this.options = { ...VIEWS_DEFAULTS, ...options }
    this.#ctx = {
      ch,
      options: this.options,
      jobs: new JobStore(ch, this.options.jobsTable),
      refreshLog: new RefreshLog(ch, this.options.refreshLogTable),
      log: stageLog('views'),
    }
    this.#tasks = new ViewTasks(this.#ctx, (job, signal) => this.#lifecycle.build(job, signal))
    this.#lifecycle = new ViewLifecycle(this.#ctx, this.#tasks)
    this.#monitor = new StatusMonitor(this.#ctx, (view) => this.#tasks.isRefreshing(view))
  }

  /** Database of the views. */
  get database(): string {
    return this.#ctx.ch.database
  }

  /**
   * Creates the job and refresh-log tables when missing and loads the jobs.
   * @throws ClickHouseError when ClickHouse refuses or cannot be reached.
   */
  async start(): Promise<void> {
    await this.#ctx.jobs.open()
    await this.#ctx.refreshLog.open()
  }

  /**
   * Resumes unfinished jobs, schedules scheduled views and starts the status monitor (staleness
   * gauges). Call after the modules' views are provisioned. Never throws: a job that cannot
   * resume is marked failed.
   */
  resume(): void {
    for (const job of this.#ctx.jobs.list()) {
      if (job.definition.refresh.mode === 'scheduled') this.#tasks.schedule(job.definition)
      if (BUILDING.has(job.status) || job.status === 'paused') this.#tasks.resume(job.name)
    }
    this.#monitor.start()
  }

  // ---------------------------------------------------------------- definitions

  /**
   * Provisions a view declared in a module: created with the two-phase backfill when new, left as
   * it is when known (a warning when its declaration changed), adopted as completed when an
   * earlier flowhouse created its MV without a job (lifecycle.ts).
   * @throws ConfigError for a definition ClickHouse cannot take; ClickHouseError; RefreshError
   *   when no clean cutoff could be taken.
   */
  provisionModuleView(view: MaterializedViewLike, file: string): Promise<ViewJob> {
    return this.#lifecycle.provisionModuleView(view, file)
  }

  /**
   * Creates a view (from a module or POST /api/mv): objects, cutoff and MV now; the backfill in
   * the background. Scheduled and manual views get their first refresh now.
   * @returns the job (status `backfilling`, `completed` or `pending`).
   * @throws FlowhouseError VIEW_CONFLICT when the name or one of its tables is taken;
   *   ConfigError for a bad definition or cluster; RefreshError when no clean cutoff could be
   *   taken; ClickHouseError.
   */
  create(def: ViewDefinition): Promise<ViewJob> {
    return this.#lifecycle.create(def)
  }

  /** Forgets the views a module declared (it left the pipelines folder): they can be dropped through the API again. */
  moduleRemoved(file: string): void {
    this.#lifecycle.moduleRemoved(file)
  }

  // ---------------------------------------------------------------- refresh

  /**
   * Refreshes a view (POST /api/mv/:name/refresh). Scheduled and manual views: `replace`
   * rebuilds and swaps, `append` adds what arrived since the last refresh; `full` forces a
   * rebuild. Streaming views are kept current by the MV trigger: without `full` nothing happens;
   * with `full` the view is rebuilt in the background (target emptied, new cutoff, backfill) —
   * readers see it fill up again.
   * @throws ViewNotFoundError; RefreshError (conflict when a refresh or backfill is running).
   */
  async refresh(name: string, options: { full?: boolean } = {}): Promise<RefreshResult> {
    const job = jobOf(this.#ctx, name)
    if (job.definition.refresh.mode !== 'streaming') {
      const r = await this.#tasks.refreshNow(name, options.full === true)
      return { view: name, kind: r.kind, rows: r.rows, duration_ms: r.durationMs, status: await this.status(name), job: jobOf(this.#ctx, name) }
    }
    if (!options.full) {
      return { view: name, kind: 'none', rows: 0, duration_ms: 0, status: await this.status(name), job, message: 'a streaming view is kept current by its MV trigger; pass full=true to rebuild it' }
    }
    if (this.#tasks.has(name) || BUILDING.has(job.status)) throw new RefreshError(`view "${name}" is being built (status ${job.status}); wait for it to complete`, { context: { view: name, conflict: true } })
    const started = Date.now()
    const rebuilding = await this.#ctx.jobs.save({ ...job, status: 'creating', attempts: 0, nodes: job.nodes.map((n) => emptyNode(n.node, null)), cutoff: null })
    this.#tasks.rebuild(rebuilding)
    return { view: name, kind: 'rebuild', rows: 0, duration_ms: Date.now() - started, status: await this.status(name), job: jobOf(this.#ctx, name), message: 'rebuilding in the background; follow GET /api/mv/' + name }
  }

  /**
   * Starts (or resumes) a backfill on request (POST /api/mv/:name/backfill): a `pending`,
   * `paused` or `failed` job continues from its last position.
   * @throws ViewNotFoundError; RefreshError (conflict) when it is running or already completed.
   */
  async backfill(name: string): Promise<ViewJob> {
    const job = jobOf(this.#ctx, name)
    if (job.definition.refresh.mode !== 'streaming') throw new RefreshError(`view "${name}" is ${job.definition.refresh.mode}: it has no backfill; refresh it instead`, { context: { view: name, conflict: true } })
    if (this.#tasks.has(name) || BUILDING.has(job.status)) throw new RefreshError(`a backfill of view "${name}" is already running (status ${job.status})`, { context: { view: name, conflict: true } })
    if (job.status === 'completed') throw new RefreshError(`view "${name}" is already backfilled; POST /api/mv/${name}/refresh?full=true rebuilds it`, { context: { view: name, conflict: true } })
    if (job.cutoff === null && job.status === 'failed') {
      const retry = await this.#ctx.jobs.save({ ...job, status: 'creating' })
      this.#tasks.resume(retry.name)
    } else {
      this.#tasks.startBackfill(name)
    }
    return jobOf(this.#ctx, name)
  }

  // ---------------------------------------------------------------- reading

  /** The job of a view. @throws ViewNotFoundError. */
  job(name: string): ViewJob {
    return jobOf(this.#ctx, name)
  }

  /** Every view with its state. Never throws for one view's status (it shows as stale). */
  async list(): Promise<ViewSummary[]> {
    const out: ViewSummary[] = []
    for (const job of this.#ctx.jobs.list()) {
      const state = await this.status(job.name).then((s) => s.state, () => 'stale' as const)
      out.push({
        name: job.name,
        origin: job.definition.origin,
        source_table: job.source_table,
        target_table: job.target_table,
        refresh_mode: job.definition.refresh.mode,
        status: job.status,
        progress_percent: job.progress_percent,
        state,
        cluster_name: job.cluster_name,
      })
    }
    return out
  }

  /** Freshness of a view. @throws ViewNotFoundError; ClickHouseError. */
  status(name: string, summary?: RefreshSummary): Promise<ViewStatus> {
    return this.#monitor.status(name, summary)
  }

  /** Job, status, refresh log, metadata and statistics of a view. @throws ViewNotFoundError; ClickHouseError. */
  async describe(name: string): Promise<ViewDetails> {
    const { ch, refreshLog } = this.#ctx
    const job = jobOf(this.#ctx, name)
    const log = (await refreshLog.summaries([name])).get(name) ?? EMPTY_SUMMARY
    return {
      job,
      status: await this.status(name, log),
      refresh_log: log,
      next_refresh: this.#tasks.nextRun(name)?.toISOString() ?? null,
      metadata: await viewMetadata(ch, job, jobObjects(job)),
      statistics: await viewStatistics(ch, job),
    }
  }

  /**
   * Runs a view query (the query helper): select, filter, group_by, having, order_by, limit over
   * the view's readable object, values bound as parameters, read-only.
   * @returns the rows and the SQL that ran (with its parameters).
   * @throws ViewNotFoundError; QueryError for anything the allowlist refuses; FlowhouseError
   *   READONLY_VIOLATION / ClickHouseError from ClickHouse.
   */
  async query(name: string, request: ViewQueryRequest): Promise<{ rows: Row[]; sql: string; params: Record<string, string> }> {
    const { ch } = this.#ctx
    const job = jobOf(this.#ctx, name)
    const readable = jobObjects(job).readable
    const columns = (await columnsOf(ch, readable)).map((c) => c.name)
    const built = buildViewQuery(name, ch.database, readable, columns, request, { defaultLimit: this.options.defaultQueryLimit, maxLimit: this.options.maxQueryLimit })
    const rows = await queryReadonly(ch, built.sql, built.params)
    return { rows, ...built }
  }

  // ---------------------------------------------------------------- drop

  /**
   * Drops a view: its MV (first, so nothing more is written), query view, Distributed table and
   * target (ON CLUSTER when clustered), leftovers of an interrupted swap, then its job record and
   * refresh log. A module view comes back (with a backfill) the next time the daemon starts.
   * @param options.caller `api` for a request (DELETE /api/mv/:name): a view declared by a module
   *   the daemon runs is refused (the module owns it; take the view out of the module first).
   * @returns the objects dropped.
   * @throws ViewNotFoundError; FlowhouseError VIEW_CONFLICT (HTTP 409) for an API drop of a
   *   module's view, naming the module; ClickHouseError (the job is kept so the drop can be retried).
   */
  async drop(name: string, options: { caller?: 'api' | 'daemon' } = {}): Promise<{ dropped: string[] }> {
    const job = jobOf(this.#ctx, name)
    this.#lifecycle.checkDrop(name, options.caller)
    this.#tasks.unschedule(name)
    await this.#tasks.cancel(name)
    const dropped = await this.#lifecycle.drop(job)
    this.#monitor.forget(name)
    this.#ctx.log.info({ view: name, dropped }, 'materialized view dropped')
    return { dropped }
  }

  /** Stops schedules and the status monitor and pauses running backfills (progress is saved). Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#monitor.stop()
      await this.#tasks.stop()
    })()
    return this.#stopping
  }
}
