/**
 * Options of the materialized-view manager, resolved once into a fully defaulted object: from the
 * environment by the daemon's configuration (config.ts resolveConfig → DaemonConfig.views), which
 * passes them to ViewManager. The manager itself reads no environment variable.
 */
import { ConfigError } from '../errors.ts'
import { setting } from '../util/environment.ts'

export interface ViewsOptions {
  /**
   * Source rows per backfill batch (a batch never splits one insert block). At most ~1M keeps a
   * non-aggregating view's batch within one insert block, which its dedup token needs.
   * Env FLOWHOUSE_MV_BATCH_ROWS. @default 1_000_000
   */
  batchRows: number
  /** Pause between backfill batches in milliseconds, to leave room for ingestion. Env FLOWHOUSE_MV_BACKFILL_PAUSE_MS. @default 0 */
  backfillPauseMs: number
  /** Default cluster of new views: a name or 'auto'. Env FLOWHOUSE_MV_CLUSTER. @default none */
  cluster: string | undefined
  /** How often view statuses (staleness gauges) are recomputed, in milliseconds. Env FLOWHOUSE_MV_STATUS_INTERVAL_MS. @default 5_000 */
  statusIntervalMs: number
  /** Attempts at taking a clean cutoff while the source is being written. @default 60 */
  cutoffAttempts: number
  /** Longest wait for inserts that started before the MV existed, in milliseconds. @default 60_000 */
  drainTimeoutMs: number
  /** Table of job records. @default 'flowhouse_mv_jobs' */
  jobsTable: string
  /** Table of the refresh log. @default 'flowhouse_mv_refresh_log' */
  refreshLogTable: string
  /** Rows a view query returns when it gives no limit. @default 1_000 */
  defaultQueryLimit: number
  /** Largest limit a view query may ask for. @default 100_000 */
  maxQueryLimit: number
}

/** Defaults; the variables' defaults come from their schema (util/environment.ts). */
export const VIEWS_DEFAULTS: ViewsOptions = {
  batchRows: setting('FLOWHOUSE_MV_BATCH_ROWS', {}),
  backfillPauseMs: setting('FLOWHOUSE_MV_BACKFILL_PAUSE_MS', {}),
  cluster: undefined,
  statusIntervalMs: setting('FLOWHOUSE_MV_STATUS_INTERVAL_MS', {}),
  cutoffAttempts: 60,
  drainTimeoutMs: 60_000,
  jobsTable: 'flowhouse_mv_jobs',
  refreshLogTable: 'flowhouse_mv_refresh_log',
  defaultQueryLimit: 1_000,
  maxQueryLimit: 100_000,
}

/**
 * Resolves the options: explicit values, then FLOWHOUSE_MV_* variables, then VIEWS_DEFAULTS.
 * @param env the environment to read (the daemon passes its own, see config.ts). @default process.env
 * @throws ConfigError when a variable is not an integer in range (the message names it; bounds in util/environment.ts).
 */
export function resolveViewsOptions(env?: NodeJS.ProcessEnv, overrides: Partial<ViewsOptions> = {}): ViewsOptions {
  return {
    ...VIEWS_DEFAULTS,
    batchRows: setting('FLOWHOUSE_MV_BATCH_ROWS', env),
    backfillPauseMs: setting('FLOWHOUSE_MV_BACKFILL_PAUSE_MS', env),
    statusIntervalMs: setting('FLOWHOUSE_MV_STATUS_INTERVAL_MS', env),
    cluster: setting('FLOWHOUSE_MV_CLUSTER', env),
    ...overrides,
  }
}
