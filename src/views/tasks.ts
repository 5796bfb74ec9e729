/**
 * Background work of the views: backfills (with OPTIMIZE FINAL), rebuilds, jobs resumed after a
 * restart, and refreshes — scheduled (cron) and on request. At most one task runs per view; stop()
 * aborts them all and waits (a backfill saves its progress and resumes on the next start).
 *
 * A task that hits a retriable error (FlowhouseError `retriable`, never a programmer error) runs
 * again after 1, 2, 5, 10 and 20 seconds (the shared loop of util/retry.ts); then, or on any other
 * error, the job is marked `failed` with the message.
 */
import { runCommand } from '../clickhouse/query.ts'
import { FlowhouseError, RefreshError, ViewNotFoundError, messageOf } from '../errors.ts'
import { metrics } from '../metrics/metrics.ts'
import { withRetry } from '../util/retry.ts'
import { runBackfill } from './backfill.ts'
import { accessesOf, ddlOf, jobObjects, selectColumns, type ViewsContext } from './context.ts'
import { dropSql, optimizeSql, truncateSql } from './ddl.ts'
import { appendRefresh, replaceRefresh } from './refresh.ts'
import { RefreshScheduler } from './scheduler.ts'
import type { SourceAccess } from './source.ts'
import type { ViewDefinition, ViewJob } from './types.ts'

/** Waits before the retries of a view task, in milliseconds; one retry per entry. */
const RETRY_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 20_000]

/**
 * Creates (or re-creates) a job's objects and takes its cutoff (lifecycle.ts ViewLifecycle.build).
 * @returns the saved job.
 */
export type BuildFn = (job: ViewJob, signal: AbortSignal | undefined) => Promise<ViewJob>

/** What one refresh did. */
export interface RefreshOutcome {
  kind: 'full' | 'incremental'
  /** Rows written to the target. */
  rows: number
  durationMs: number
}

/** The background tasks and refreshes of one manager (see the top of this file). */
export class ViewTasks {
  readonly #ctx: ViewsContext
  readonly #build: BuildFn
  readonly #scheduler = new RefreshScheduler()
  /** Background work per view (backfills, rebuilds), with its abort switch. */
  readonly #tasks = new Map<string, { abort: AbortController; done: Promise<void> }>()
  /** Views with a refresh running now. */
  readonly #refreshing = new Set<string>()
  #stopping: Promise<void> | undefined

  /**
   * @param ctx the manager's shared state.
   * @param build how a job's objects are (re-)created, for resumed jobs and rebuilds.
   */
  constructor(ctx: ViewsContext, build: BuildFn) {
    this.#ctx = ctx
    this.#build = build
  }

  /** Whether a background task of the view is running. */
  has(name: string): boolean {
    return this.#tasks.has(name)
  }

  /** Whether a refresh of the view is running. */
  isRefreshing(name: string): boolean {
    return this.#refreshing.has(name)
  }

  /** Next scheduled refresh of the view, or null when it has no schedule. */
  nextRun(name: string): Date | null {
    return this.#scheduler.nextRun(name)
  }

  /** Starts (or resumes) the view's backfill in the background. No-op while a task of the view runs or after stop(). */
  startBackfill(name: string): void {
    this.#run(name, (signal) => this.#backfill(name, signal))
  }

  /**
   * Picks up a job left unfinished by a stop or a crash, in the background: a `creating` job drops
   * its MV and takes its cutoff again; a `backfilling` or `paused` one continues after its last
   * position; an `optimizing` one runs OPTIMIZE FINAL. Never throws (a failure is logged and
   * recorded on the job).
   */
  resume(name: string): void {
    this.#run(name, (signal) => this.#continue(name, signal))
  }

  /**
   * Rebuilds a streaming view in the background: its MV dropped, its target emptied, a new cutoff
   * and a backfill (even for a view created without one: its target was just emptied).
   * @param job the job, already saved as `creating` with its progress reset.
   */
  rebuild(job: ViewJob): void {
    const { ch, jobs } = this.#ctx
    const name = job.name
    this.#run(name, async (signal) => {
      const objects = jobObjects(job)
      if (objects.mv) await runCommand(ch, dropSql(objects.mv, ddlOf(this.#ctx, job)))
      await runCommand(ch, truncateSql(job.target_table, ddlOf(this.#ctx, job)))
      await this.#withRetries(name, signal, async () => void (await this.#build(jobs.get(name) as ViewJob, signal)))
      if (['backfilling', 'pending'].includes(jobs.get(name)?.status ?? '')) await this.#backfill(name, signal)
    })
  }

  /** Schedules the refreshes of a `scheduled` view with a cron schedule (other views: no-op); a failed run is logged. */
  schedule(def: ViewDefinition): void {
    if (def.refresh.mode !== 'scheduled' || !def.refresh.schedule) return
    this.#scheduler.schedule(def.name, def.refresh.schedule, def.refresh.timezone, async () => {
      await this.refreshNow(def.name, false).catch((error: unknown) => this.#ctx.log.warn({ view: def.name, err: error }, 'scheduled refresh failed'))
    })
  }

  /** Stops the view's schedule, if any. */
  unschedule(name: string): void {
    this.#scheduler.unschedule(name)
  }

  /** Aborts the view's background task, if any, and waits for it to settle. Never throws. */
  async cancel(name: string): Promise<void> {
    const task = this.#tasks.get(name)
    if (!task) return
    task.abort.abort()
    await task.done
  }

  /**
   * One refresh of a scheduled or manual view: `full` (or strategy `replace`, or no refresh yet)
   * rebuilds the target and swaps it in; otherwise the rows added since the last refresh are
   * appended. The run is recorded in the refresh log and on the job.
   * @throws ViewNotFoundError; RefreshError (context `conflict: true` when a refresh of the view
   *   is already running; `retriable` as the cause was).
   */
  async refreshNow(name: string, full: boolean): Promise<RefreshOutcome> {
    const { ch, jobs, refreshLog, log } = this.#ctx
    const job = jobs.get(name)
    if (!job) throw new ViewNotFoundError(name)
    if (this.#refreshing.has(name)) throw new RefreshError(`a refresh of view "${name}" is already running`, { context: { view: name, conflict: true } })
    this.#refreshing.add(name)
    const started = Date.now()
    const def = job.definition
    const kind = full || def.refresh.strategy === 'replace' || job.source_version === null ? 'full' : 'incremental'
    try {
      const { names } = await selectColumns(this.#ctx, def)
      const outcome =
        kind === 'full'
          ? await replaceRefresh(ch, def, names)
          : await appendRefresh(ch, def, job.watermark, names, { version: job.source_version, position: job.last_position }, job.id)
      const latest = jobs.get(name) ?? job
      const nodes = latest.nodes.map((n) => ({ ...n, last_position: outcome.position ?? n.last_position }))
      await jobs.save({ ...latest, status: 'completed', source_version: outcome.version, nodes, error_message: null })
      const durationMs = Date.now() - started
      await refreshLog.record({ view: name, kind, status: 'ok', startedAt: started, durationMs, rows: outcome.rows })
      log.info({ view: name, kind, rows: outcome.rows, ms: durationMs }, 'view refreshed')
      return { kind, rows: outcome.rows, durationMs }
    } catch (error) {
      await refreshLog.record({ view: name, kind, status: 'error', startedAt: started, durationMs: Date.now() - started, rows: 0, error: messageOf(error) })
      const latest = jobs.get(name)
      if (latest) await jobs.save({ ...latest, status: latest.status === 'creating' ? 'failed' : latest.status, error_message: messageOf(error) }).catch(() => undefined)
      throw error instanceof RefreshError ? error : new RefreshError(`refresh of view "${name}" failed: ${messageOf(error)}`, { cause: error, retriable: error instanceof FlowhouseError && error.retriable, context: { view: name } })
    } finally {
      this.#refreshing.delete(name)
    }
  }

  /** Stops the schedules, aborts every task and waits for them to settle (backfills save their progress). Idempotent; never throws. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#scheduler.stopAll()
      const tasks = [...this.#tasks.values()]
      for (const t of tasks) t.abort.abort()
      await Promise.allSettled(tasks.map((t) => t.done))
    })()
    return this.#stopping
  }

  #run(name: string, work: (signal: AbortSignal) => Promise<void>): void {
    if (this.#stopping || this.#tasks.has(name)) return
    const abort = new AbortController()
    const done = work(abort.signal)
      .catch((error: unknown) => this.#ctx.log.error({ view: name, err: error }, 'view job failed'))
      .finally(() => {
        if (this.#tasks.get(name)?.abort === abort) this.#tasks.delete(name)
      })
    this.#tasks.set(name, { abort, done })
  }

  async #continue(name: string, signal: AbortSignal): Promise<void> {
    const { ch, jobs, log } = this.#ctx
    const job = jobs.get(name)
    if (!job) return
    if (job.status === 'creating') {
      log.info({ view: name }, 'the daemon stopped while this view was being created; taking its cutoff again')
      const objects = jobObjects(job)
      if (objects.mv) await runCommand(ch, dropSql(objects.mv, ddlOf(this.#ctx, job)))
      if (job.definition.refresh.mode === 'streaming') await runCommand(ch, truncateSql(job.target_table, ddlOf(this.#ctx, job))).catch(() => undefined)
      await this.#withRetries(job.name, signal, async () => void (await this.#build(jobs.get(name) as ViewJob, signal)))
      if (jobs.get(name)?.status === 'backfilling') await this.#backfill(name, signal)
      return
    }
    if (job.status === 'backfilling' || job.status === 'paused') return this.#backfill(name, signal)
    if (job.status === 'optimizing') return this.#finishBackfill(name, Date.now())
  }

  /**
   * Runs `work` with the view tasks' retries. Stopped during a wait: returns and the job stays as
   * it is (it resumes on the next start). Otherwise the last error marks the job failed (unless
   * stopped) and is thrown.
   */
  async #withRetries(name: string, signal: AbortSignal, work: () => Promise<void>): Promise<void> {
    try {
      await withRetry(work, {
        retriable: (error) => !signal.aborted && error instanceof FlowhouseError && error.retriable,
        delayMs: (retry) => RETRY_DELAYS_MS[retry - 1],
        onRetry: (error, _retry, delayMs) => void this.#ctx.log.warn({ view: name, err: error, retryInMs: delayMs }, 'view job hit a retriable error; retrying'),
        signal,
      })
    } catch (error) {
      if (signal.aborted && error === signal.reason) return
      const job = this.#ctx.jobs.get(name)
      if (job && !signal.aborted) await this.#fail(job, error)
      throw error
    }
  }

  async #fail(job: ViewJob, error: unknown): Promise<void> {
    const current = this.#ctx.jobs.get(job.name) ?? job
    await this.#ctx.jobs.save({ ...current, status: 'failed', error_message: messageOf(error) }).catch(() => undefined)
  }

  /** Runs (or resumes) the backfill of a job, then OPTIMIZE FINAL. */
  async #backfill(name: string, signal: AbortSignal): Promise<void> {
    const { ch, jobs, refreshLog, log, options } = this.#ctx
    let job = jobs.get(name)
    if (!job) return
    const started = Date.now()
    job = await jobs.save({ ...job, status: 'backfilling', attempts: job.attempts + 1, error_message: null })
    log.info({ view: name, attempt: job.attempts, from: job.nodes.map((n) => ({ node: n.node, last: n.last_position, cutoff: n.cutoff })) }, job.attempts > 1 ? 'resuming backfill' : 'backfill started')
    const def = job.definition
    try {
      let finished = false
      await this.#withRetries(name, signal, async () => {
        const current = jobs.get(name) as ViewJob
        const { names } = await selectColumns(this.#ctx, def)
        const access = accessesOf(this.#ctx, current)
        finished = await runBackfill({
          ch,
          def,
          jobId: current.id,
          watermark: current.watermark,
          insertColumns: names,
          nodes: current.nodes.map((progress, i) => ({ progress, access: access.nodes[i] as SourceAccess })),
          batchRows: def.batchRows ?? options.batchRows,
          pauseMs: options.backfillPauseMs,
          signal,
          save: async (nodes) => {
            const latest = jobs.get(name)
            if (!latest) return
            const saved = await jobs.save({ ...latest, nodes })
            metrics.mvBackfillProgress.set({ view: name }, saved.progress_percent / 100)
          },
          log,
        })
      })
      if (!finished) {
        const latest = jobs.get(name)
        if (latest) await jobs.save({ ...latest, status: 'paused' })
        log.info({ view: name }, 'backfill paused; it resumes when the daemon starts again or on POST /api/mv/<name>/backfill')
        return
      }
    } catch (error) {
      await refreshLog.record({ view: name, kind: 'backfill', status: 'error', startedAt: started, durationMs: Date.now() - started, rows: 0, error: messageOf(error) })
      throw new RefreshError(`backfill of view "${name}" failed: ${messageOf(error)}`, { cause: error, context: { view: name } })
    }
    await this.#finishBackfill(name, started)
  }

  async #finishBackfill(name: string, started: number): Promise<void> {
    const { ch, jobs, refreshLog, log } = this.#ctx
    let job = jobs.get(name)
    if (!job) return
    job = await jobs.save({ ...job, status: 'optimizing' })
    await runCommand(ch, optimizeSql(job.target_table, ddlOf(this.#ctx, job)), { view: name })
    await refreshLog.record({ view: name, kind: 'backfill', status: 'ok', startedAt: started, durationMs: Date.now() - started, rows: job.total_rows })
    job = await jobs.save({ ...(jobs.get(name) as ViewJob), status: 'completed', error_message: null })
    metrics.mvBackfillProgress.set({ view: name }, 1)
    log.info({ view: name, rows: job.total_rows, seconds: (Date.now() - started) / 1000 }, 'backfill completed')
  }
}
