/**
 * Freshness of the views: each view's status on request (status.ts computes it from the job, the
 * source's newest block and the refresh log), and a monitor that recomputes every status each
 * `statusIntervalMs` into the staleness, grace-period, state and backfill-progress gauges
 * (docs/metrics.md).
 */
import { queryRows } from '../clickhouse/query.ts'
import { sqlString } from '../clickhouse/sql.ts'
import { metrics } from '../metrics/metrics.ts'
import { jobOf, type ViewsContext } from './context.ts'
import { EMPTY_SUMMARY } from './refresh-log.ts'
import { localAccess, sourceVersion } from './source.ts'
import { computeStatus } from './status.ts'
import type { RefreshSummary, ViewStatus } from './types.ts'

/** Computes view statuses and publishes them as gauges. */
export class StatusMonitor {
  readonly #ctx: ViewsContext
  readonly #isRefreshing: (view: string) => boolean
  #timer: NodeJS.Timeout | undefined

  /**
   * @param ctx the manager's shared state.
   * @param isRefreshing whether a refresh of the view runs now (tasks.ts).
   */
  constructor(ctx: ViewsContext, isRefreshing: (view: string) => boolean) {
    this.#ctx = ctx
    this.#isRefreshing = isRefreshing
  }

  /** Publishes every status now and then each `statusIntervalMs`; the timer does not keep the process alive. Idempotent. */
  start(): void {
    if (this.#timer) return
    this.#timer = setInterval(() => void this.#publish(), this.#ctx.options.statusIntervalMs)
    this.#timer.unref()
    void this.#publish()
  }

  /** Stops publishing (a run in progress completes). Idempotent. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
  }

  /**
   * Freshness of a view. A scheduled or manual view with source rows newer than its last refresh
   * is stale since the oldest such part was written.
   * @param summary the view's refresh log, when the caller has it already.
   * @throws ViewNotFoundError; ClickHouseError.
   */
  async status(name: string, summary?: RefreshSummary): Promise<ViewStatus> {
    const { ch, refreshLog } = this.#ctx
    const job = jobOf(this.#ctx, name)
    const def = job.definition
    const access = localAccess(ch.database, def.source)
    const version = await sourceVersion(ch, access, ch.database, def.source)
    let newerSince: number | null = null
    if (def.refresh.mode !== 'streaming' && job.source_version !== null && version > job.source_version) {
      const [row] = await queryRows<{ s: number | string }>(
        ch,
        `SELECT toUnixTimestamp(min(modification_time)) AS s FROM system.parts WHERE active AND database = ${sqlString(ch.database)} AND table = ${sqlString(def.source)} AND max_block_number > ${job.source_version}`,
      )
      newerSince = row && Number(row.s) > 0 ? Number(row.s) * 1000 : null
    }
    const log = summary ?? (await refreshLog.summaries([name])).get(name) ?? EMPTY_SUMMARY
    return computeStatus({ job, refreshing: this.#isRefreshing(name), sourceVersion: version, newerDataSinceMs: newerSince, lastRefresh: log.last_refreshed_at, nowMs: Date.now() })
  }

  /** Removes a dropped view's gauges. */
  forget(view: string): void {
    for (const gauge of [metrics.mvStaleness, metrics.mvGracePeriod, metrics.mvBackfillProgress, metrics.mvLastRefreshDuration, metrics.mvLastRefreshTime]) gauge.remove({ view })
    for (const state of ['fresh', 'stale', 'refreshing']) metrics.mvState.remove({ view, state })
  }

  async #publish(): Promise<void> {
    const { jobs } = this.#ctx
    for (const job of jobs.list()) {
      try {
        const s = await this.status(job.name)
        metrics.mvStaleness.set({ view: job.name }, s.stalenessSeconds)
        metrics.mvGracePeriod.set({ view: job.name }, s.gracePeriodSeconds)
        for (const state of ['fresh', 'stale', 'refreshing'] as const) metrics.mvState.set({ view: job.name, state }, s.state === state ? 1 : 0)
        metrics.mvBackfillProgress.set({ view: job.name }, (jobs.get(job.name)?.progress_percent ?? 100) / 100)
      } catch {
        /* the view was dropped meanwhile, or ClickHouse is unreachable: keep the last values */
      }
    }
  }
}
