/**
 * The daemon's readiness (GET /ready and the periodic refresh of `flowhouse_ready{check}`), as
 * five checks, each a status and never an exception:
 * - `kafka`: the cluster answers a describe (detail: broker count, or the error message);
 * - `clickhouse`: ClickHouse answers a ping (detail: the error message);
 * - `consumers`: every consumer group member has joined (detail: each consumer's status);
 * - `modules`: every module of the pipelines folder loaded and provisioned; a refused hot reload
 *   (the previous version keeps running) is listed without failing;
 * - `partitions`: no partition waits on retried inserts longer than FLOWHOUSE_READY_PAUSE_THRESHOLD_MS
 *   and none is stalled (lag without a commit for FLOWHOUSE_STALL_SECONDS); see readiness.ts.
 */
import { messageOf } from '../errors.ts'
import { pausedPartitionsCheck, publishReadiness, type CheckResult } from './readiness.ts'
import type { StallDetector } from './stall.ts'

/** What readiness reads from the daemon (interfaces at the seam: Kafka admin, ClickHouse, consumers, modules). */
export interface ReadinessSources {
  /** kafkajs Admin.describeCluster. @throws when the cluster cannot be reached. */
  describeCluster(): Promise<{ brokers: readonly unknown[] }>
  /** ClickHouse ping; an error is returned, not thrown. */
  ping(): Promise<{ ok: true } | { ok: false; error: unknown }>
  /** Status of every running consumer group member. */
  consumers(): Array<{ joined: boolean }>
  /** Every module the daemon knows, running or not. */
  modules(): ReadonlyArray<{ file: string; error?: string; reloadError?: string }>
  /** FLOWHOUSE_READY_PAUSE_THRESHOLD_MS, in ms. */
  readyPauseThresholdMs: number
  /** Stalled partitions (fed by the lag collector). */
  stalls: StallDetector
}

/**
 * Computes the five readiness checks and publishes each on `flowhouse_ready{check}`
 * (1 passing, 0 failing). Never throws.
 * @returns `{ kafka, clickhouse, consumers, modules, partitions }`, each `{ ok, detail? }`.
 */
export async function daemonReadiness(sources: ReadinessSources): Promise<Record<string, CheckResult>> {
  const kafka = await sources
    .describeCluster()
    .then((c) => ({ ok: true, detail: { brokers: c.brokers.length } }))
    .catch((error: unknown) => ({ ok: false, detail: messageOf(error) }))
  const ping = await sources.ping()
  const consumers = sources.consumers()
  const modules = sources.modules()
  // A module that failed to load or provision is not running: the daemon is not ready. A
  // refused reload (the previous version keeps running) is reported without failing.
  const failed = modules.filter((m) => m.error || m.reloadError).map((m) => ({ file: m.file, running: !m.error, error: m.error ?? m.reloadError }))
  const checks = {
    kafka,
    clickhouse: ping.ok ? { ok: true } : { ok: false, detail: messageOf(ping.error) },
    consumers: { ok: consumers.every((c) => c.joined), detail: consumers },
    modules: { ok: failed.every((f) => f.running), detail: { loaded: modules.length, failed } },
    partitions: pausedPartitionsCheck(sources.readyPauseThresholdMs, undefined, undefined, sources.stalls),
  }
  publishReadiness(checks)
  return checks
}
