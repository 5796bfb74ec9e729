/**
 * Readiness pieces owned by the health stage: the "no partition paused on errors for longer
 * than a threshold" check, and the `flowhouse_ready{check}` gauge (1 passing, 0 failing) that
 * every readiness computation publishes (GET /ready and the daemon's periodic refresh).
 */
import { metrics } from '../metrics/metrics.ts'
import { partitionPauses, type PauseRegistry } from './pauses.ts'
import type { StallDetector } from './stall.ts'

/** One readiness check: a status, never an exception (same shape as http/server.ts ReadyCheck). */
export interface CheckResult {
  ok: boolean
  detail?: unknown
}

/**
 * Fails when an insert has waited on retriable ClickHouse errors for more than `thresholdMs`,
 * or (with `stalls`) when a partition has lag and has not committed for its stallSeconds.
 * Detail: `{ thresholdMs, waiting: [{ pipeline, table, token, pausedMs, attempts, lastError }] }`
 * (the token names topic, partition and offset range), plus with `stalls`:
 * `stallSeconds, stalled: [{ pipeline, topic, partition, oldestPendingOffset, lag, stalledSeconds }]`.
 * Never throws.
 */
export function pausedPartitionsCheck(thresholdMs: number, registry: PauseRegistry = partitionPauses, now: number = Date.now(), stalls?: StallDetector): CheckResult {
  const waiting = registry.list(now).map(({ since: _since, ...rest }) => rest)
  const ok = waiting.every((p) => p.pausedMs <= thresholdMs)
  if (!stalls) return { ok, detail: { thresholdMs, waiting } }
  const stalled = stalls.stalled(now)
  return { ok: ok && stalled.length === 0, detail: { thresholdMs, waiting, stallSeconds: stalls.stallSeconds, stalled } }
}

/** Sets `flowhouse_ready{check}` to 1 or 0 for each check. Never throws. */
export function publishReadiness(checks: Record<string, CheckResult>): void {
  for (const [check, result] of Object.entries(checks)) metrics.ready.set({ check }, result.ok ? 1 : 0)
}
