/**
 * ViewManager: the materialized-view lifecycle on one ClickHouse (embedded or server).
 *
 *   create   → job `creating`: target table (and Distributed table, query view), then the
 *              cutoff and the MV (cutoff.ts), job `backfilling` → backfill.ts in the background
 *              → `optimizing` (OPTIMIZE TABLE ... FINAL) → `completed`. A source without rows
 *              goes straight to `completed`; `backfill: false` stops at `pending`.
 *   restart  → unfinished jobs resume where their progress says (a `creating` job starts its
 *              cutoff again; a `backfilling` one continues after its last position).
 *   refresh  → scheduled (cron) and manual views: replace (rebuild + atomic swap) or append;
 *              a streaming view's full refresh rebuilds it with a new cutoff.
 *   drop     → MV, query view, Distributed table and target, then the job and its refresh log.
 *
 * One manager per database; it is the only writer of the job records.
 */
import type { Logger } from 'pino'
import type { ClickHouse } from '../clickhouse/client.ts'
import { ddlOptionsFor, inferColumns } from '../clickhouse/ddl.ts'
import { provisionView } from '../clickhouse/provision.ts'
import { checkSandboxed, queryReadonly, queryRows, runCommand, type Row } from '../clickhouse/query.ts'
import { qualifiedName, sqlString } from '../clickhouse/sql.ts'
import { FlowhouseError, RefreshError, ViewNotFoundError, isProgrammerError, messageOf } from '../errors.ts'
import { metrics } from '../metrics/metrics.ts'
import { mergeSelect } from '../model/declarative.ts'
import type { MaterializedViewLike } from '../model/types.ts'
import { stageLog } from '../util/log.ts'
import { countUpTo, runBackfill } from './backfill.ts'
import { resolveCluster, type ClusterInfo } from './cluster.ts'
import { takeCutoff } from './cutoff.ts'
import {
  distributedTableSql,
  dropSql,
  enableBlockNumbersSql,
  filteredSource,
  materializedViewSql,
  optimizeSql,
  qn,
  queryViewSql,
  targetTableSql,
  truncateSql,
  type ViewDdlContext,
} from './ddl.ts'
import { definitionFromModule, objectsOf, sameDefinition } from './definition.ts'
import { columnsOf, viewMetadata, viewStatistics, type ViewMetadata, type ViewStatistics } from './inspect.ts'
import { JobStore, withTotals } from './jobs.ts'
import { resolveViewsOptions, type ViewsOptions } from './options.ts'
import { buildViewQuery, type ViewQueryRequest } from './query/builder.ts'
import { NEW_SUFFIX, OLD_SUFFIX, appendRefresh, replaceRefresh } from './refresh.ts'
import { EMPTY_SUMMARY, RefreshLog } from './refresh-log.ts'
import { RefreshScheduler } from './scheduler.ts'
import { chooseWatermark, localAccess, positionSql, remoteAccess, sourceVersion, watermarkExpr, type SourceAccess } from './source.ts'
import { computeStatus } from './status.ts'
import { renderSource, withSourceFilter } from './template.ts'
import type { JobStatus, NodeProgress, RefreshSummary, ViewDefinition, ViewJob, ViewObjects, ViewStatus, Watermark } from './types.ts'

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

const BUILDING: ReadonlySet<JobStatus> = new Set(['creating', 'backfilling', 'optimizing'])
const RETRY_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 20_000]

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
  })

function conflict(message: string, view: string): FlowhouseError {
  return new FlowhouseError('VIEW_CONFLICT', message, { context: { view } })
}

/** The materialized-view lifecycle on one ClickHouse database (see the top of this file). */
export class ViewManager {
  readonly options: ViewsOptions
  readonly #ch: ClickHouse
  readonly #jobs: JobStore
  readonly #refreshLog: RefreshLog
  readonly #scheduler = new RefreshScheduler()
  readonly #log: Logger = stageLog('views')
  /** Background work per view (backfills, rebuilds), with its abort switch. */
  readonly #tasks = new Map<string, { abort: AbortController; done: Promise<void> }>()
  /** Views with a refresh running now. */
  readonly #refreshing = new Set<string>()
  /** Names being created (so that two requests for one name do not race). */
  readonly #creating = new Set<string>()
  /** Views declared by a module this daemon runs now → its file (such a view cannot be dropped through the API). */
  readonly #declared = new Map<string, string>()
  #statusTimer: NodeJS.Timeout | undefined
  #stopping: Promise<void> | undefined

  /**
   * @param ch the daemon's ClickHouse handle (the manager never closes it).
   * @param options manager options; FLOWHOUSE_MV_* variables and defaults otherwise.
   */
  constructor(ch: ClickHouse, options: Partial<ViewsOptions> = {}) {
    this.#ch = ch
    this.options = resolveViewsOptions(process.env, options)
    this.#jobs = new JobStore(ch, this.options.jobsTable)
    this.#refreshLog = new RefreshLog(ch, this.options.refreshLogTable)
  }

  /** Database of the views. */
  get database(): string {
    return this.#ch.database
  }

  /**
   * Creates the job and refresh-log tables when missing and loads the jobs.
   * @throws ClickHouseError when ClickHouse refuses or cannot be reached.
   */
  async start(): Promise<void> {
    await this.#jobs.open()
    await this.#refreshLog.open()
  }

  /**
   * Resumes unfinished jobs, schedules scheduled views and starts the status monitor (staleness
   * gauges). Call after the modules' views are provisioned. Never throws: a job that cannot
   * resume is marked failed.
   */
  resume(): void {
    for (const job of this.#jobs.list()) {
      if (job.definition.refresh.mode === 'scheduled') this.#schedule(job.definition)
      if (BUILDING.has(job.status) || job.status === 'paused') this.#background(job.name, (signal) => this.#continue(job.name, signal))
    }
    if (!this.#statusTimer) {
      this.#statusTimer = setInterval(() => void this.#publishStatuses(), this.options.statusIntervalMs)
      this.#statusTimer.unref()
      void this.#publishStatuses()
    }
  }

  // ---------------------------------------------------------------- definitions

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
    for (const note of view.notes ?? []) this.#log.warn({ view: view.name, module: file }, note)
    const def = definitionFromModule(view, this.#ch.database, 'module', file)
    this.#declared.set(def.name, file)
    const existing = this.#jobs.get(def.name)
    if (existing) {
      if (!sameDefinition(existing.definition, def)) {
        this.#log.warn(
          { view: def.name, module: file },
          'the view is declared differently from the one running; left unchanged so no aggregated data is lost (to apply the new declaration, give the view a new name, or take it out of the module, drop it with DELETE /api/mv/<name>, and declare it again)',
        )
      }
      return existing
    }
    const objects = objectsOf(def, null)
    if (!view.declarative && def.refresh.mode === 'streaming' && (await this.#exists(objects.mv as string))) {
      // A view created before flowhouse kept job records: reconcile it like before and adopt it.
      await provisionView(this.#ch, view)
      const now = new Date().toISOString()
      const job = this.#newJob(def, null, { kind: 'insert_order', column: null, type: null }, now)
      return this.#jobs.save({ ...job, status: 'completed', nodes: [this.#node('local', null)] })
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
    if (def.origin === 'api') await this.#checkCallerSelect(def)
    if (this.#jobs.get(def.name) || this.#creating.has(def.name)) throw conflict(`materialized view "${def.name}" already exists; drop it first (DELETE /api/mv/${def.name})`, def.name)
    this.#creating.add(def.name)
    try {
      const requested = def.cluster ?? this.options.cluster
      const cluster = def.refresh.mode === 'streaming' ? await resolveCluster(this.#ch, requested) : null
      const objects = objectsOf(def, cluster?.name ?? null)
      for (const name of [objects.mv, objects.target, objects.queryView, objects.dist]) {
        if (name && (await this.#exists(name))) throw conflict(`cannot create view "${def.name}": a table or view named "${name}" already exists in database ${this.#ch.database}`, def.name)
      }
      const needsWatermark = def.refresh.mode === 'streaming' || def.refresh.strategy === 'append'
      const watermark = needsWatermark ? await chooseWatermark(this.#ch, this.#ch.database, def.source, def.watermark, cluster !== null) : { kind: 'insert_order' as const, column: null, type: null }
      const now = new Date().toISOString()
      let job = this.#newJob(def, cluster, watermark, now)
      job = await this.#jobs.save(job)
      this.#log.info({ view: def.name, source: def.source, mode: def.refresh.mode, cluster: cluster?.name ?? null, watermark }, 'creating materialized view')
      const created = await this.#build(job, undefined)
      if (created.status === 'backfilling') this.#background(created.name, (s) => this.#backfill(created.name, s))
      if (def.refresh.mode === 'scheduled') this.#schedule(def)
      return created
    } catch (error) {
      await this.#discard(def.name, error)
      throw error
    } finally {
      this.#creating.delete(def.name)
    }
  }

  /**
   * The SELECT of a view created through the API (its select_query, or the SELECT its filter,
   * group_by and compute generate), over its source, judged by the SQL sandbox before any DDL:
   * no table functions, no file or network functions, only flowhouse's tables.
   * @throws QueryError (HTTP 400) naming the rule.
   */
  async #checkCallerSelect(def: ViewDefinition): Promise<void> {
    await checkSandboxed(this.#ch, renderSource(def.template, qualifiedName(this.#ch.database, def.source)))
  }

  /** Forgets the views a module declared (it left the pipelines folder): they can be dropped through the API again. */
  moduleRemoved(file: string): void {
    for (const [name, declaredBy] of this.#declared) if (declaredBy === file) this.#declared.delete(name)
  }

  /** Undoes a creation that failed: drops what was created and forgets the job, so the request can be repeated. */
  async #discard(name: string, error: unknown): Promise<void> {
    const job = this.#jobs.get(name)
    if (!job || job.status !== 'creating') return
    this.#log.warn({ view: name, error: messageOf(error) }, 'creating the view failed; dropping what was created')
    const objects = this.#objects(job)
    for (const object of [objects.mv, objects.queryView, objects.dist, objects.target]) {
      if (object) await runCommand(this.#ch, dropSql(object, this.#ddl(job))).catch(() => undefined)
    }
    await this.#jobs.remove(name).catch(() => undefined)
  }

  #node(node: string, cutoff: string | null): NodeProgress {
    return { node, cutoff, total_rows: 0, processed_rows: 0, last_position: null, pending_to: null }
  }

  #newJob(def: ViewDefinition, cluster: ClusterInfo | null, watermark: Watermark, now: string): ViewJob {
    return withTotals({
      id: this.#jobs.nextId(),
      name: def.name,
      source_table: def.source,
      target_table: def.target.name,
      status: 'creating',
      cluster_name: cluster?.name ?? null,
      nodes: (cluster ? cluster.nodes : ['local']).map((n) => this.#node(n, null)),
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

  #ddl(job: ViewJob): ViewDdlContext {
    return { ...ddlOptionsFor(this.#ch), cluster: job.cluster_name }
  }

  #objects(job: ViewJob): ViewObjects {
    return objectsOf(job.definition, job.cluster_name)
  }

  #accesses(job: ViewJob): { all: SourceAccess; nodes: SourceAccess[] } {
    const db = this.#ch.database
    const src = job.definition.source
    if (!job.cluster_name) return { all: localAccess(db, src), nodes: [localAccess(db, src)] }
    const nodes = job.nodes.map((n) => n.node)
    return { all: remoteAccess(nodes.join(','), db, src), nodes: nodes.map((n) => remoteAccess(n, db, src)) }
  }

  async #exists(name: string): Promise<boolean> {
    const rows = await queryRows(this.#ch, `SELECT 1 FROM system.tables WHERE database = ${sqlString(this.#ch.database)} AND name = ${sqlString(name)}`)
    return rows.length > 0
  }

  async #run(job: ViewJob, sql: string, record = true): Promise<void> {
    await runCommand(this.#ch, sql, { view: job.name })
    if (record) job.statements.push(sql)
  }

  /** The SELECT's output columns, in order (what a backfill INSERT names). */
  async #selectColumns(def: ViewDefinition): Promise<{ names: string[]; columns: Array<{ name: string; type: string }> }> {
    const select = renderSource(def.template, qualifiedName(this.#ch.database, def.source))
    if (!this.#ch.capabilities.describeQuery) {
      if (!def.target.columns) throw new RefreshError(`view "${def.name}": ClickHouse ${this.#ch.serverVersion} cannot DESCRIBE a query; declare the target columns`)
      return { names: def.target.columns.map((c) => c.name), columns: def.target.columns }
    }
    const columns = await inferColumns(this.#ch, select)
    return { names: columns.map((c) => c.name), columns }
  }

  /** The MV's SELECT for a cutoff: over the source, with `WHERE column > cutoff` added for a column watermark. */
  #mvSelect(job: ViewJob, cutoff: string | null): string {
    const def = job.definition
    if (cutoff === null || job.watermark.kind !== 'column') return renderSource(def.template, qn(this.#ddl(job), def.source))
    return renderSource(withSourceFilter(def.template, `${watermarkExpr(job.watermark)} > ${positionSql(cutoff, job.watermark)}`), qn(this.#ddl(job), def.source))
  }

  /**
   * Creates (or, after a restart in `creating`, re-creates) the objects and takes the cutoff;
   * starts the backfill. Scheduled and manual views: the objects and a first refresh.
   */
  async #build(job: ViewJob, signal: AbortSignal | undefined): Promise<ViewJob> {
    const def = job.definition
    if (def.origin === 'api') await this.#checkCallerSelect(def)
    const ctx = this.#ddl(job)
    const objects = this.#objects(job)
    const { columns } = await this.#selectColumns(def)
    job.statements = []
    await this.#run(job, targetTableSql(def, def.target.columns ?? columns, ctx))
    if (objects.dist) await this.#run(job, distributedTableSql(objects.dist, def.target.name, ctx))
    if (def.declarative) await this.#run(job, queryViewSql(def.declarative.queryView, mergeSelect(def.declarative, qn(ctx, objects.dist ?? def.target.name)), ctx))
    if (job.watermark.kind === 'insert_order' && (def.refresh.mode === 'streaming' || def.refresh.strategy === 'append')) {
      await this.#run(job, enableBlockNumbersSql(def.source, ctx))
    }
    if (def.refresh.mode !== 'streaming') {
      job = await this.#jobs.save(job)
      await this.#refreshNow(job.name, true)
      return this.#jobs.get(job.name) as ViewJob
    }
    const access = this.#accesses(job)
    const mv = objects.mv as string
    let mvSql = ''
    const { cutoff, attempts } = await takeCutoff({
      ch: this.#ch,
      database: this.#ch.database,
      source: def.source,
      watermark: job.watermark,
      all: access.all,
      nodes: access.nodes,
      create: async (c) => {
        mvSql = materializedViewSql(mv, def.target.name, this.#mvSelect(job, c), ctx)
        await runCommand(this.#ch, mvSql, { view: def.name })
      },
      undo: async () => {
        await runCommand(this.#ch, dropSql(mv, ctx), { view: def.name })
        await runCommand(this.#ch, truncateSql(def.target.name, ctx), { view: def.name })
      },
      attempts: this.options.cutoffAttempts,
      drainTimeoutMs: this.options.drainTimeoutMs,
      log: this.#log,
      ...(signal ? { signal } : {}),
    })
    job.statements.push(mvSql)
    job.cutoff = cutoff
    job.nodes = job.nodes.map((n) => this.#node(n.node, cutoff))
    if (cutoff !== null) {
      for (const [i, node] of job.nodes.entries()) node.total_rows = await countUpTo(this.#ch, access.nodes[i] as SourceAccess, job.watermark, cutoff)
    }
    job.status = cutoff === null ? 'completed' : def.backfill ? 'backfilling' : 'pending'
    job.error_message = null
    job = await this.#jobs.save(job)
    this.#log.info({ view: def.name, cutoff, attempts, watermark: job.watermark.kind }, cutoff === null ? 'materialized view created over an empty source' : 'materialized view created; backfilling the rows up to the cutoff')
    if (job.status === 'completed') {
      await this.#refreshLog.record({ view: def.name, kind: 'backfill', status: 'ok', startedAt: Date.parse(job.created_at), durationMs: Date.now() - Date.parse(job.created_at), rows: 0 })
    }
    return job
  }

  // ---------------------------------------------------------------- background work

  #background(name: string, work: (signal: AbortSignal) => Promise<void>): void {
    if (this.#stopping || this.#tasks.has(name)) return
    const abort = new AbortController()
    const done = work(abort.signal)
      .catch((error: unknown) => this.#log.error({ view: name, error: messageOf(error) }, 'view job failed'))
      .finally(() => {
        if (this.#tasks.get(name)?.abort === abort) this.#tasks.delete(name)
      })
    this.#tasks.set(name, { abort, done })
  }

  async #cancel(name: string): Promise<void> {
    const task = this.#tasks.get(name)
    if (!task) return
    task.abort.abort()
    await task.done
  }

  /** Picks up a job left unfinished by a stop or a crash. */
  async #continue(name: string, signal: AbortSignal): Promise<void> {
    const job = this.#jobs.get(name)
    if (!job) return
    if (job.status === 'creating') {
      this.#log.info({ view: name }, 'the daemon stopped while this view was being created; taking its cutoff again')
      const objects = this.#objects(job)
      if (objects.mv) await runCommand(this.#ch, dropSql(objects.mv, this.#ddl(job)))
      if (job.definition.refresh.mode === 'streaming') await runCommand(this.#ch, truncateSql(job.target_table, this.#ddl(job))).catch(() => undefined)
      await this.#withRetries(job.name, signal, async () => void (await this.#build(this.#jobs.get(name) as ViewJob, signal)))
      if (this.#jobs.get(name)?.status === 'backfilling') await this.#backfill(name, signal)
      return
    }
    if (job.status === 'backfilling' || job.status === 'paused') return this.#backfill(name, signal)
    if (job.status === 'optimizing') return this.#finishBackfill(name, Date.now())
  }

  async #withRetries(name: string, signal: AbortSignal, work: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await work()
      } catch (error) {
        const retriable = !isProgrammerError(error) && error instanceof FlowhouseError && error.retriable
        const delay = RETRY_DELAYS_MS[attempt]
        if (!retriable || delay === undefined || signal.aborted) {
          const job = this.#jobs.get(name)
          if (job && !signal.aborted) await this.#fail(job, error)
          throw error
        }
        this.#log.warn({ view: name, error: messageOf(error), retryInMs: delay }, 'view job hit a retriable error; retrying')
        await sleep(delay, signal)
        if (signal.aborted) return
      }
    }
  }

  async #fail(job: ViewJob, error: unknown): Promise<void> {
    const current = this.#jobs.get(job.name) ?? job
    await this.#jobs.save({ ...current, status: 'failed', error_message: messageOf(error) }).catch(() => undefined)
  }

  /** Runs (or resumes) the backfill of a job, then OPTIMIZE FINAL. */
  async #backfill(name: string, signal: AbortSignal): Promise<void> {
    let job = this.#jobs.get(name)
    if (!job) return
    const started = Date.now()
    job = await this.#jobs.save({ ...job, status: 'backfilling', attempts: job.attempts + 1, error_message: null })
    this.#log.info({ view: name, attempt: job.attempts, from: job.nodes.map((n) => ({ node: n.node, last: n.last_position, cutoff: n.cutoff })) }, job.attempts > 1 ? 'resuming backfill' : 'backfill started')
    const def = job.definition
    try {
      let finished = false
      await this.#withRetries(name, signal, async () => {
        const current = this.#jobs.get(name) as ViewJob
        const { names } = await this.#selectColumns(def)
        const access = this.#accesses(current)
        finished = await runBackfill({
          ch: this.#ch,
          def,
          jobId: current.id,
          watermark: current.watermark,
          insertColumns: names,
          nodes: current.nodes.map((progress, i) => ({ progress, access: access.nodes[i] as SourceAccess })),
          batchRows: def.batchRows ?? this.options.batchRows,
          pauseMs: this.options.backfillPauseMs,
          signal,
          save: async (nodes) => {
            const latest = this.#jobs.get(name)
            if (!latest) return
            const saved = await this.#jobs.save({ ...latest, nodes })
            metrics.mvBackfillProgress.set({ view: name }, saved.progress_percent / 100)
          },
          log: this.#log,
        })
      })
      if (!finished) {
        const latest = this.#jobs.get(name)
        if (latest) await this.#jobs.save({ ...latest, status: 'paused' })
        this.#log.info({ view: name }, 'backfill paused; it resumes when the daemon starts again or on POST /api/mv/<name>/backfill')
        return
      }
    } catch (error) {
      await this.#refreshLog.record({ view: name, kind: 'backfill', status: 'error', startedAt: started, durationMs: Date.now() - started, rows: 0, error: messageOf(error) })
      throw new RefreshError(`backfill of view "${name}" failed: ${messageOf(error)}`, { cause: error, context: { view: name } })
    }
    await this.#finishBackfill(name, started)
  }

  async #finishBackfill(name: string, started: number): Promise<void> {
    let job = this.#jobs.get(name)
    if (!job) return
    job = await this.#jobs.save({ ...job, status: 'optimizing' })
    await runCommand(this.#ch, optimizeSql(job.target_table, this.#ddl(job)), { view: name })
    await this.#refreshLog.record({ view: name, kind: 'backfill', status: 'ok', startedAt: started, durationMs: Date.now() - started, rows: job.total_rows })
    job = await this.#jobs.save({ ...(this.#jobs.get(name) as ViewJob), status: 'completed', error_message: null })
    metrics.mvBackfillProgress.set({ view: name }, 1)
    this.#log.info({ view: name, rows: job.total_rows, seconds: (Date.now() - started) / 1000 }, 'backfill completed')
  }

  // ---------------------------------------------------------------- refresh

  #schedule(def: ViewDefinition): void {
    if (def.refresh.mode !== 'scheduled' || !def.refresh.schedule) return
    this.#scheduler.schedule(def.name, def.refresh.schedule, def.refresh.timezone, async () => {
      await this.#refreshNow(def.name, false).catch((error: unknown) => this.#log.warn({ view: def.name, error: messageOf(error) }, 'scheduled refresh failed'))
    })
  }

  /** One refresh of a scheduled or manual view. @throws RefreshError. */
  async #refreshNow(name: string, full: boolean): Promise<{ kind: 'full' | 'incremental'; rows: number; durationMs: number }> {
    const job = this.#jobs.get(name)
    if (!job) throw new ViewNotFoundError(name)
    if (this.#refreshing.has(name)) throw new RefreshError(`a refresh of view "${name}" is already running`, { context: { view: name, conflict: true } })
    this.#refreshing.add(name)
    const started = Date.now()
    const def = job.definition
    const kind = full || def.refresh.strategy === 'replace' || job.source_version === null ? 'full' : 'incremental'
    try {
      const { names } = await this.#selectColumns(def)
      const outcome =
        kind === 'full'
          ? await replaceRefresh(this.#ch, def, names)
          : await appendRefresh(this.#ch, def, job.watermark, names, { version: job.source_version, position: job.last_position }, job.id)
      const latest = this.#jobs.get(name) ?? job
      const nodes = latest.nodes.map((n) => ({ ...n, last_position: outcome.position ?? n.last_position }))
      await this.#jobs.save({ ...latest, status: 'completed', source_version: outcome.version, nodes, error_message: null })
      const durationMs = Date.now() - started
      await this.#refreshLog.record({ view: name, kind, status: 'ok', startedAt: started, durationMs, rows: outcome.rows })
      this.#log.info({ view: name, kind, rows: outcome.rows, ms: durationMs }, 'view refreshed')
      return { kind, rows: outcome.rows, durationMs }
    } catch (error) {
      await this.#refreshLog.record({ view: name, kind, status: 'error', startedAt: started, durationMs: Date.now() - started, rows: 0, error: messageOf(error) })
      const latest = this.#jobs.get(name)
      if (latest) await this.#jobs.save({ ...latest, status: latest.status === 'creating' ? 'failed' : latest.status, error_message: messageOf(error) }).catch(() => undefined)
      throw error instanceof RefreshError ? error : new RefreshError(`refresh of view "${name}" failed: ${messageOf(error)}`, { cause: error, retriable: error instanceof FlowhouseError && error.retriable, context: { view: name } })
    } finally {
      this.#refreshing.delete(name)
    }
  }

  /**
   * Refreshes a view (POST /api/mv/:name/refresh). Scheduled and manual views: `replace`
   * rebuilds and swaps, `append` adds what arrived since the last refresh; `full` forces a
   * rebuild. Streaming views are kept current by the MV trigger: without `full` nothing happens;
   * with `full` the view is rebuilt in the background (target emptied, new cutoff, backfill) —
   * readers see it fill up again.
   * @throws ViewNotFoundError; RefreshError (conflict when a refresh or backfill is running).
   */
  async refresh(name: string, options: { full?: boolean } = {}): Promise<RefreshResult> {
    const job = this.#get(name)
    if (job.definition.refresh.mode !== 'streaming') {
      const r = await this.#refreshNow(name, options.full === true)
      return { view: name, kind: r.kind, rows: r.rows, duration_ms: r.durationMs, status: await this.status(name), job: this.#get(name) }
    }
    if (!options.full) {
      return { view: name, kind: 'none', rows: 0, duration_ms: 0, status: await this.status(name), job, message: 'a streaming view is kept current by its MV trigger; pass full=true to rebuild it' }
    }
    if (this.#tasks.has(name) || BUILDING.has(job.status)) throw new RefreshError(`view "${name}" is being built (status ${job.status}); wait for it to complete`, { context: { view: name, conflict: true } })
    const started = Date.now()
    const rebuilding = await this.#jobs.save({ ...job, status: 'creating', attempts: 0, nodes: job.nodes.map((n) => this.#node(n.node, null)), cutoff: null })
    this.#background(name, async (signal) => {
      const objects = this.#objects(rebuilding)
      if (objects.mv) await runCommand(this.#ch, dropSql(objects.mv, this.#ddl(rebuilding)))
      await runCommand(this.#ch, truncateSql(rebuilding.target_table, this.#ddl(rebuilding)))
      await this.#withRetries(name, signal, async () => void (await this.#build(this.#jobs.get(name) as ViewJob, signal)))
      // A rebuild backfills even a view created without backfill (`pending`): its target was just emptied.
      if (['backfilling', 'pending'].includes(this.#jobs.get(name)?.status ?? '')) await this.#backfill(name, signal)
    })
    return { view: name, kind: 'rebuild', rows: 0, duration_ms: Date.now() - started, status: await this.status(name), job: this.#get(name), message: 'rebuilding in the background; follow GET /api/mv/' + name }
  }

  /**
   * Starts (or resumes) a backfill on request (POST /api/mv/:name/backfill): a `pending`,
   * `paused` or `failed` job continues from its last position.
   * @throws ViewNotFoundError; RefreshError (conflict) when it is running or already completed.
   */
  async backfill(name: string): Promise<ViewJob> {
    const job = this.#get(name)
    if (job.definition.refresh.mode !== 'streaming') throw new RefreshError(`view "${name}" is ${job.definition.refresh.mode}: it has no backfill; refresh it instead`, { context: { view: name, conflict: true } })
    if (this.#tasks.has(name) || BUILDING.has(job.status)) throw new RefreshError(`a backfill of view "${name}" is already running (status ${job.status})`, { context: { view: name, conflict: true } })
    if (job.status === 'completed') throw new RefreshError(`view "${name}" is already backfilled; POST /api/mv/${name}/refresh?full=true rebuilds it`, { context: { view: name, conflict: true } })
    if (job.cutoff === null && job.status === 'failed') {
      const retry = await this.#jobs.save({ ...job, status: 'creating' })
      this.#background(name, (s) => this.#continue(retry.name, s))
    } else {
      this.#background(name, (s) => this.#backfill(name, s))
    }
    return this.#get(name)
  }

  // ---------------------------------------------------------------- reading

  #get(name: string): ViewJob {
    const job = this.#jobs.get(name)
    if (!job) throw new ViewNotFoundError(name)
    return job
  }

  /** The job of a view. @throws ViewNotFoundError. */
  job(name: string): ViewJob {
    return this.#get(name)
  }

  /** Every view with its state. Never throws for one view's status (it shows as stale). */
  async list(): Promise<ViewSummary[]> {
    const out: ViewSummary[] = []
    for (const job of this.#jobs.list()) {
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
  async status(name: string, summary?: RefreshSummary): Promise<ViewStatus> {
    const job = this.#get(name)
    const def = job.definition
    const access = localAccess(this.#ch.database, def.source)
    const version = await sourceVersion(this.#ch, access, this.#ch.database, def.source)
    let newerSince: number | null = null
    if (def.refresh.mode !== 'streaming' && job.source_version !== null && version > job.source_version) {
      const [row] = await queryRows<{ s: number | string }>(
        this.#ch,
        `SELECT toUnixTimestamp(min(modification_time)) AS s FROM system.parts WHERE active AND database = ${sqlString(this.#ch.database)} AND table = ${sqlString(def.source)} AND max_block_number > ${job.source_version}`,
      )
      newerSince = row && Number(row.s) > 0 ? Number(row.s) * 1000 : null
    }
    const log = summary ?? (await this.#refreshLog.summaries([name])).get(name) ?? EMPTY_SUMMARY
    return computeStatus({ job, refreshing: this.#refreshing.has(name), sourceVersion: version, newerDataSinceMs: newerSince, lastRefresh: log.last_refreshed_at, nowMs: Date.now() })
  }

  /** Job, status, refresh log, metadata and statistics of a view. @throws ViewNotFoundError; ClickHouseError. */
  async describe(name: string): Promise<ViewDetails> {
    const job = this.#get(name)
    const log = (await this.#refreshLog.summaries([name])).get(name) ?? EMPTY_SUMMARY
    return {
      job,
      status: await this.status(name, log),
      refresh_log: log,
      next_refresh: this.#scheduler.nextRun(name)?.toISOString() ?? null,
      metadata: await viewMetadata(this.#ch, job, this.#objects(job)),
      statistics: await viewStatistics(this.#ch, job),
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
    const job = this.#get(name)
    const readable = this.#objects(job).readable
    const columns = (await columnsOf(this.#ch, readable)).map((c) => c.name)
    const built = buildViewQuery(name, this.#ch.database, readable, columns, request, { defaultLimit: this.options.defaultQueryLimit, maxLimit: this.options.maxQueryLimit })
    const rows = await queryReadonly(this.#ch, built.sql, built.params)
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
    const job = this.#get(name)
    const module = this.#declared.get(name)
    if (options.caller === 'api' && module !== undefined) {
      throw new FlowhouseError('VIEW_CONFLICT', `materialized view "${name}" is declared by the module ${module}: it cannot be dropped through the API while the module declares it; take the view out of the module (hot reload applies it), then drop it`, {
        context: { view: name, module },
      })
    }
    this.#scheduler.unschedule(name)
    await this.#cancel(name)
    const objects = this.#objects(job)
    const ctx = this.#ddl(job)
    const names = [objects.mv, objects.queryView, objects.dist, objects.target].filter((x): x is string => typeof x === 'string')
    for (const object of names) await runCommand(this.#ch, dropSql(object, ctx), { view: name })
    for (const leftover of [`${job.target_table}${NEW_SUFFIX}`, `${job.target_table}${OLD_SUFFIX}`]) {
      await runCommand(this.#ch, dropSql(leftover, { database: this.#ch.database, cluster: null }), { view: name }).catch(() => undefined)
    }
    await this.#jobs.remove(name)
    await this.#refreshLog.forget(name)
    this.#forgetMetrics(name)
    this.#log.info({ view: name, dropped: names }, 'materialized view dropped')
    return { dropped: names }
  }

  #forgetMetrics(view: string): void {
    for (const gauge of [metrics.mvStaleness, metrics.mvGracePeriod, metrics.mvBackfillProgress, metrics.mvLastRefreshDuration, metrics.mvLastRefreshTime]) gauge.remove({ view })
    for (const state of ['fresh', 'stale', 'refreshing']) metrics.mvState.remove({ view, state })
  }

  async #publishStatuses(): Promise<void> {
    for (const job of this.#jobs.list()) {
      try {
        const s = await this.status(job.name)
        metrics.mvStaleness.set({ view: job.name }, s.stalenessSeconds)
        metrics.mvGracePeriod.set({ view: job.name }, s.gracePeriodSeconds)
        for (const state of ['fresh', 'stale', 'refreshing'] as const) metrics.mvState.set({ view: job.name, state }, s.state === state ? 1 : 0)
        metrics.mvBackfillProgress.set({ view: job.name }, (this.#jobs.get(job.name)?.progress_percent ?? 100) / 100)
      } catch {
        /* the view was dropped meanwhile, or ClickHouse is unreachable: keep the last values */
      }
    }
  }

  /** Stops schedules and the status monitor and pauses running backfills (progress is saved). Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#scheduler.stopAll()
      if (this.#statusTimer) clearInterval(this.#statusTimer)
      const tasks = [...this.#tasks.values()]
      for (const t of tasks) t.abort.abort()
      await Promise.allSettled(tasks.map((t) => t.done))
    })()
    return this.#stopping
  }
}
