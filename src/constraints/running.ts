/**
 * One running constraint of a pipeline: its current enabled flag and config (declared, then
 * overridden by persisted run-time changes), its checker (checkers/), its rate buckets, its
 * statistics, and the handle behind `Constraint` methods, the HTTP API and the CLI. The running
 * set lives in registry.ts; the checks in checkers/.
 */
import { ConfigError } from '../errors.ts'
import { metrics } from '../metrics/metrics.ts'
import { stageLog } from '../util/log.ts'
import { checkerFor, type Checker } from './checkers/index.ts'
import { withConfig, type Constraint, type ConstraintRuntime } from './constraint.ts'
import type { ViolationHistory, ViolationQuery } from './history.ts'
import { RateBuckets, type SharedRates } from './rate.ts'
import type { ConstraintStore } from './store.ts'
import type { ConstraintConfig, ConstraintSpec } from './types.ts'

const logger = stageLog('constraints')

export interface ConstraintStatistics {
  /** Records evaluated. */
  checks: number
  /** Violations by action (throttle, dead_letter, drop, rejected). */
  violations: Record<string, number>
  /** Seconds consumption waited on this constraint (rate throttling, memory pauses, CPU throttling). */
  throttleSeconds: number
  /** ISO time of the newest violation, or null. */
  lastViolationAt: string | null
}

/** What a running constraint needs of the registry that holds it. */
export interface ConstraintHost {
  readonly store: ConstraintStore
  readonly history: ViolationHistory
  /** Redis connection for rate limits shared by every daemon, when configured. */
  readonly sharedRates?: SharedRates | undefined
  /** Called after every state change: workers get new snapshots. */
  changed(pipeline: string): void
}

/** A constraint running on one pipeline; `Constraint` methods and the HTTP API act on it. */
export class RunningConstraint implements ConstraintRuntime {
  version = 0
  /** Buckets for the consumer path (rate constraints only). */
  rate: RateBuckets | undefined
  /** Separate buckets for the ingest API (a record admitted there is limited again when consumed). */
  ingestRate: RateBuckets | undefined
  readonly stats: ConstraintStatistics = { checks: 0, violations: {}, throttleSeconds: 0, lastViolationAt: null }
  /** Why the newest stored state was not applied (it no longer checks), or null; shown in the status. */
  storedStateError: string | null = null
  private current: ConstraintSpec
  private check: Checker

  /**
   * @param fields the pipeline's top-level schema fields: run-time configs may group by these only.
   */
  constructor(
    readonly pipeline: string,
    readonly declared: Constraint,
    private readonly host: ConstraintHost,
    readonly fields?: ReadonlySet<string>,
  ) {
    this.current = declared.spec
    this.check = this.rebuild()
  }

  get name(): string {
    return this.declared.spec.name
  }
  /** The current spec: declared, with the run-time enabled flag and config. */
  get spec(): ConstraintSpec {
    return this.current
  }
  get enabled(): boolean {
    return this.current.enabled
  }
  get config(): ConstraintConfig {
    return this.current.config
  }
  /** The checker of the current config. */
  get checker(): Checker {
    return this.check
  }

  /** Applies a state (from this instance, or read from the store and checked with withConfig). */
  applyState(spec: ConstraintSpec, version: number): void {
    const configChanged = JSON.stringify(spec.config) !== JSON.stringify(this.current.config)
    this.current = spec
    this.version = version
    if (configChanged) this.check = this.rebuild()
    this.host.changed(this.pipeline)
  }

  private rebuild(): Checker {
    const spec = this.current
    this.rate?.close()
    this.ingestRate?.close()
    const shared = this.host.sharedRates
    const scope = (path: string) => (shared ? { rates: shared, id: `flowhouse:rate:${this.pipeline}:${this.name}:${path}` } : undefined)
    this.rate = spec.type === 'rate' ? new RateBuckets(spec.config, false, scope('consume')) : undefined
    this.ingestRate = spec.type === 'rate' ? new RateBuckets(spec.config, true, scope('ingest')) : undefined
    return checkerFor(spec)
  }

  /**
   * Checks one record against this constraint on demand (outside the stream), counting the
   * check and recording a violation. A disabled constraint admits everything.
   * Rate limits use the ingest API's buckets.
   * @throws RateLimitExceededError (with retryAfterMs), ValidationError (field and rule in its
   *   context) or ResourceLimitExceededError (an event over max_memory_per_event_kb).
   */
  async apply(record: Record<string, unknown>): Promise<void> {
    if (!this.enabled) return
    this.checked(1)
    const source = 'apply'
    const checker = this.check
    if (checker.type === 'rate') {
      const buckets = this.ingestRate!
      const key = checker.key(record)
      if (await buckets.tryTake(key, 1)) return
      const details = checker.refused(key)
      this.violated('rejected', { source, key, details })
      throw checker.error(details, await buckets.waitMs(key, 1), this.pipeline)
    }
    const finding = checker.check(record)
    if (!finding) return
    this.violated(checker.onDemandAction, { source, key: '', details: finding.reason })
    throw checker.error(finding, this.pipeline)
  }

  private async change(spec: ConstraintSpec): Promise<void> {
    const version = Math.max(Date.now(), this.version + 1)
    const { enabled, config } = spec
    await this.host.store.save({ pipeline: this.pipeline, constraint: this.name, enabled, config: JSON.stringify(config), version })
    this.applyState(spec, version)
    logger.info({ pipeline: this.pipeline, constraint: this.name, enabled, config }, 'constraint changed at run time')
  }

  /** Enables the constraint; persisted, every instance follows within 2 s. @throws when the store cannot be written. */
  enable(): Promise<void> {
    return this.change({ ...this.current, enabled: true })
  }
  /** Disables the constraint; persisted, every instance follows within 2 s. @throws when the store cannot be written. */
  disable(): Promise<void> {
    return this.change({ ...this.current, enabled: false })
  }
  /**
   * Merges `config` into the current config, checks the result as at load time, stores it.
   * @throws ConfigError when the new config breaks a rule.
   */
  async updateConfig(config: Partial<ConstraintConfig>): Promise<void> {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ConfigError(`constraint "${this.name}": option "config": must be an object`, { constraint: this.name })
    return this.change(withConfig(this.current, { ...this.config, ...Object.fromEntries(Object.entries(config)) }, this.fields))
  }
  /** `{ pipeline, name, type, enabled, priority, action, config, version, stored_state_error }` (GET /api/constraints/:pipeline/:name). */
  async getStatus() {
    const s = this.spec
    return { pipeline: this.pipeline, name: s.name, type: s.type, enabled: s.enabled, priority: s.priority, action: s.action, config: s.config, version: this.version, stored_state_error: this.storedStateError }
  }
  /** The limits of the current config, unset ones as null; rate limits add `active_keys` (keys with a live bucket). */
  async getLimits() {
    const s = this.current
    if (s.type === 'rate') return { max_events_per_second: s.config.max_events_per_second ?? null, max_events_per_minute: s.config.max_events_per_minute ?? null, group_by: s.config.group_by ?? null, active_keys: this.rate?.keys ?? 0 }
    if (s.type === 'resource') return { max_memory_mb: s.config.max_memory_mb ?? null, max_memory_per_event_kb: s.config.max_memory_per_event_kb ?? null, max_cpu_percent: s.config.max_cpu_percent ?? null, max_processing_time_ms: s.config.max_processing_time_ms ?? null }
    return { rules: s.config.rules }
  }
  /** `{ checks, violations, throttle_seconds }` since this daemon started the pipeline. */
  async getMetrics() {
    const violations = Object.values(this.stats.violations).reduce((a, b) => a + b, 0)
    return { checks: this.stats.checks, violations, throttle_seconds: this.stats.throttleSeconds }
  }
  /** Checks, violations in total and by action, violation ratio (0 to 1), throttle seconds, ISO time of the last violation. */
  async getStatistics() {
    const violations = Object.values(this.stats.violations).reduce((a, b) => a + b, 0)
    return {
      checks: this.stats.checks,
      violations_total: violations,
      violations_by_action: { ...this.stats.violations },
      violation_ratio: this.stats.checks === 0 ? 0 : violations / this.stats.checks,
      throttle_seconds: this.stats.throttleSeconds,
      last_violation_at: this.stats.lastViolationAt,
    }
  }
  /** This constraint's violation history between `startTime` and `endTime` (ISO-8601 strings or Dates), oldest first. */
  async getViolations(range: { startTime?: string | Date; endTime?: string | Date } = {}) {
    const q: ViolationQuery = { constraint: this.name, pipeline: this.pipeline }
    if (range.startTime !== undefined) q.from = range.startTime
    if (range.endTime !== undefined) q.to = range.endTime
    return this.host.history.query(q)
  }

  /** Counts checks (metrics and statistics). */
  checked(count: number): void {
    this.stats.checks += count
    metrics.constraintChecks.inc({ pipeline: this.pipeline, constraint: this.name }, count)
  }

  /** Counts and records violations. */
  violated(action: string, v: { source: string; key: string; details: string; count?: number; time?: number }): void {
    const count = v.count ?? 1
    this.stats.violations[action] = (this.stats.violations[action] ?? 0) + count
    this.stats.lastViolationAt = new Date(v.time ?? Date.now()).toISOString()
    metrics.constraintViolations.inc({ pipeline: this.pipeline, constraint: this.name, type: this.declared.spec.type, action }, count)
    this.host.history.record({ time: v.time ?? Date.now(), constraint: this.name, type: this.declared.spec.type, pipeline: this.pipeline, action, source: v.source, key: v.key, details: v.details, count })
  }

  /** Counts time consumption waited because of this constraint. */
  throttled(seconds: number): void {
    if (seconds <= 0) return
    this.stats.throttleSeconds += seconds
    metrics.constraintThrottleSeconds.inc({ pipeline: this.pipeline, constraint: this.name }, seconds)
  }
}
