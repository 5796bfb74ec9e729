/**
 * A view's freshness (contract seeds/002 "Check Staleness", "Grace Period"): fresh, stale or
 * refreshing, with lastRefresh and staleSince. Staleness is measured against the source's newest
 * data, not the clock: a scheduled view whose source has not changed since its last refresh is
 * fresh however long ago that was. The source's newest data is its highest block number in
 * system.parts; a view reflects the version read when its last refresh started. A streaming view
 * is fresh once its backfill completed, because the MV trigger writes in the same INSERT as the
 * source. A stale view within its grace period is still `usable`.
 */
import type { ViewJob, ViewState, ViewStatus } from './types.ts'

/** What the status is computed from. */
export interface StatusInput {
  job: ViewJob
  /** A refresh or rebuild is running now. */
  refreshing: boolean
  /** The source's current version (highest block number); null when unknown. */
  sourceVersion: number | null
  /** Earliest modification time (ms) of source parts newer than the view's version; null when unknown. */
  newerDataSinceMs: number | null
  /** End of the last successful refresh or backfill, ISO-8601. */
  lastRefresh: string | null
  nowMs: number
}

const BUILDING = new Set(['pending', 'creating', 'backfilling', 'optimizing'])

/** Computes the status; pure. */
export function computeStatus(input: StatusInput): ViewStatus {
  const { job, nowMs } = input
  const def = job.definition
  const grace = def.refresh.gracePeriodSeconds
  let state: ViewState
  let staleSinceMs: number | null = null
  const viewVersion = def.refresh.mode === 'streaming' ? input.sourceVersion : job.source_version
  if (input.refreshing || BUILDING.has(job.status)) {
    state = 'refreshing'
  } else if (job.status === 'failed' || job.status === 'paused') {
    state = 'stale'
    staleSinceMs = Date.parse(job.created_at)
  } else if (def.refresh.mode === 'streaming') {
    state = 'fresh'
  } else if (job.source_version === null) {
    state = 'stale'
    staleSinceMs = Date.parse(job.created_at)
  } else if (input.sourceVersion !== null && input.sourceVersion > job.source_version) {
    state = 'stale'
    staleSinceMs = input.newerDataSinceMs ?? nowMs
  } else {
    state = 'fresh'
  }
  const stalenessSeconds = staleSinceMs === null ? 0 : Math.max(0, (nowMs - staleSinceMs) / 1000)
  return {
    state,
    lastRefresh: input.lastRefresh,
    staleSince: staleSinceMs === null ? null : new Date(staleSinceMs).toISOString(),
    stalenessSeconds: Math.round(stalenessSeconds * 1000) / 1000,
    gracePeriodSeconds: grace,
    usable: state === 'fresh' || (state === 'stale' && stalenessSeconds <= grace) || (state === 'refreshing' && job.status === 'completed'),
    sourceVersion: input.sourceVersion,
    viewVersion,
  }
}
