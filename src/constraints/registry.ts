/**
 * The running constraints of a daemon, per (pipeline, constraint name): their current
 * enabled flag and config (declared, then overridden by persisted run-time changes), rate
 * buckets, statistics, and the handle behind `Constraint` methods, the HTTP API and the CLI.
 * A change takes effect at once on this instance and within `pollMs` (1 s) on every other
 * instance sharing the ClickHouse (contract: within 2 s, no restart).
 */
import { ConfigError, FlowhouseError, RateLimitExceededError, ResourceLimitExceededError, ValidationError, messageOf } from '../errors.ts'
import { rateKey } from './evaluate.ts'
import { compileRules, type CompiledRules } from './validation.ts'
import { metrics } from '../metrics/metrics.ts'
import { stageLog } from '../util/log.ts'
import { checkConfig, type Constraint, type ConstraintRuntime } from './constraint.ts'
import type { ViolationHistory, ViolationQuery } from './history.ts'
import { RateBuckets, type SharedRates } from './rate.ts'
import { resources } from './resource.ts'
import type { ConstraintStore } from './store.ts'
import type { ConstraintConfig, ConstraintSnapshot, ConstraintSpec, RateConfig, ResourceConfig, ValidationConfig } from './types.ts'

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

export class RunningConstraint implements ConstraintRuntime {
  enabled: boolean
  config: ConstraintConfig
  version = 0
  /** Buckets for the consumer path. */
  rate: RateBuckets | undefined
  /** Separate buckets for the ingest API (a record admitted there is limited again when consumed). */
  ingestRate: RateBuckets | undefined
  readonly stats: ConstraintStatistics = { checks: 0, violations: {}, throttleSeconds: 0, lastViolationAt: null }
  /** Why the newest stored state was not applied (it no longer checks), or null; shown in the status. */
  storedStateError: string | null = null
  private rules: CompiledRules | undefined

  /**
   * @param fields the pipeline's top-level schema fields: run-time configs may group by these only.
   */
  constructor(
    readonly pipeline: string,
    readonly declared: Constraint,
    private readonly registry: ConstraintRegistry,
    readonly fields?: ReadonlySet<string>,
  ) {
    this.enabled = declared.spec.enabled
    this.config = declared.spec.config
    this.rebuild()
  }

  get name(): string {
    return this.declared.spec.name
  }
  get spec(): ConstraintSpec {
    return { ...this.declared.spec, enabled: this.enabled, config: this.config }
  }

  /** Applies a state (from this instance or read from the store). */
  applyState(enabled: boolean, config: ConstraintConfig, version: number): void {
    const configChanged = JSON.stringify(config) !== JSON.stringify(this.config)
    this.enabled = enabled
    this.config = config
    this.version = version
    if (configChanged) this.rebuild()
    this.registry.changed(this.pipeline)
  }

  private rebuild(): void {
    const isRate = this.declared.spec.type === 'rate'
    this.rate?.close()
    this.ingestRate?.close()
    const shared = this.registry.sharedRates
    const scope = (path: string) => (shared ? { rates: shared, id: `flowhouse:rate:${this.pipeline}:${this.name}:${path}` } : undefined)
    this.rate = isRate ? new RateBuckets(this.config as RateConfig, false, scope('consume')) : undefined
    this.ingestRate = isRate ? new RateBuckets(this.config as RateConfig, true, scope('ingest')) : undefined
    this.rules = this.declared.spec.type === 'validation' ? compileRules(this.config as ValidationConfig) : undefined
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
    const type = this.declared.spec.type
    if (type === 'rate') {
      const key = rateKey(record, (this.config as RateConfig).group_by)
      if (await this.ingestRate!.tryTake(key, 1)) return
      const details = `constraint "${this.name}": rate limit exceeded for key "${key}"`
      this.violated('rejected', { source, key, details })
      throw new RateLimitExceededError(details, Math.max(1, await this.ingestRate!.waitMs(key, 1)), { pipeline: this.pipeline, constraint: this.name })
    }
    if (type === 'validation') {
      const failure = this.rules!.check(record)
      if (!failure) return
      const details = `constraint "${this.name}": field "${failure.field}": rule ${failure.rule}: ${failure.reason}`
      this.violated(this.declared.spec.action, { source, key: '', details })
      throw new ValidationError(details, { pipeline: this.pipeline, constraint: this.name, field: failure.field, rule: failure.rule })
    }
    const kb = (this.config as ResourceConfig).max_memory_per_event_kb
    const bytes = Buffer.byteLength(JSON.stringify(record))
    if (kb !== undefined && bytes > kb * 1024) {
      const details = `constraint "${this.name}": event is ${bytes} bytes, over max_memory_per_event_kb ${kb} (${kb * 1024} bytes)`
      this.violated('dead_letter', { source, key: '', details })
      throw new ResourceLimitExceededError(details, { pipeline: this.pipeline, constraint: this.name, rule: 'max_memory_per_event_kb' })
    }
  }

  private async change(enabled: boolean, config: ConstraintConfig): Promise<void> {
    const version = Math.max(Date.now(), this.version + 1)
    await this.registry.store.save({ pipeline: this.pipeline, constraint: this.name, enabled, config: JSON.stringify(config), version })
    this.applyState(enabled, config, version)
    logger.info({ pipeline: this.pipeline, constraint: this.name, enabled, config }, 'constraint changed at run time')
  }

  enable(): Promise<void> {
    return this.change(true, this.config)
  }
  disable(): Promise<void> {
    return this.change(false, this.config)
  }
  /**
   * Merges `config` into the current config, checks the result as at load time, stores it.
   * @throws ConfigError when the new config breaks a rule.
   */
  async updateConfig(config: ConstraintConfig): Promise<void> {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ConfigError(`constraint "${this.name}": option "config": must be an object`, { constraint: this.name })
    const merged = checkConfig(this.name, this.declared.spec.type, { ...this.config, ...Object.fromEntries(Object.entries(config)) }, this.fields)
    return this.change(this.enabled, merged)
  }
  async getStatus() {
    const s = this.spec
    return { pipeline: this.pipeline, name: s.name, type: s.type, enabled: s.enabled, priority: s.priority, action: s.action, config: s.config, version: this.version, stored_state_error: this.storedStateError }
  }
  async getLimits() {
    const c = this.config as RateConfig & ResourceConfig & { rules?: unknown }
    if (this.declared.spec.type === 'rate') return { max_events_per_second: c.max_events_per_second ?? null, max_events_per_minute: c.max_events_per_minute ?? null, group_by: c.group_by ?? null, active_keys: this.rate?.keys ?? 0 }
    if (this.declared.spec.type === 'resource') return { max_memory_mb: c.max_memory_mb ?? null, max_memory_per_event_kb: c.max_memory_per_event_kb ?? null, max_cpu_percent: c.max_cpu_percent ?? null, max_processing_time_ms: c.max_processing_time_ms ?? null }
    return { rules: c.rules }
  }
  async getMetrics() {
    const violations = Object.values(this.stats.violations).reduce((a, b) => a + b, 0)
    return { checks: this.stats.checks, violations, throttle_seconds: this.stats.throttleSeconds }
  }
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
  async getViolations(range: { startTime?: string | Date; endTime?: string | Date } = {}) {
    const q: ViolationQuery = { constraint: this.name, pipeline: this.pipeline }
    if (range.startTime !== undefined) q.from = range.startTime
    if (range.endTime !== undefined) q.to = range.endTime
    return this.registry.history.query(q)
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
    this.registry.history.record({ time: v.time ?? Date.now(), constraint: this.name, type: this.declared.spec.type, pipeline: this.pipeline, action, source: v.source, key: v.key, details: v.details, count })
  }

  /** Counts time consumption waited because of this constraint. */
  throttled(seconds: number): void {
    if (seconds <= 0) return
    this.stats.throttleSeconds += seconds
    metrics.constraintThrottleSeconds.inc({ pipeline: this.pipeline, constraint: this.name }, seconds)
  }
}

export class ConstraintRegistry {
  private readonly byPipeline = new Map<string, RunningConstraint[]>()
  private readonly snapshotCache = new Map<string, ConstraintSnapshot[]>()
  private timer: NodeJS.Timeout | undefined
  private polling = false

  /**
   * @param sharedRates Redis connection for rate limits shared by every daemon
   *   (FLOWHOUSE_REDIS_URL); in-process buckets when absent.
   */
  constructor(
    readonly store: ConstraintStore,
    readonly history: ViolationHistory,
    private readonly pollMs = 1_000,
    readonly sharedRates?: SharedRates,
  ) {}

  /** Creates the tables and starts following changes made by other instances. */
  async start(): Promise<void> {
    await this.store.init()
    await this.history.start()
    resources.acquire()
    this.timer = setInterval(() => void this.poll(), this.pollMs)
    this.timer.unref()
  }

  /**
   * Starts the constraints of a pipeline, applying persisted run-time changes, and binds each
   * declared Constraint to its running handle.
   * @throws FlowhouseError when two constraints of the pipeline share a name.
   */
  async attach(pipeline: string, declared: readonly Constraint[], fields?: ReadonlySet<string>): Promise<void> {
    const names = new Set<string>()
    for (const c of declared) {
      if (names.has(c.name)) throw new FlowhouseError('CONFIG_INVALID', `pipeline "${pipeline}": constraint "${c.name}" is attached twice; give each constraint of a pipeline its own name`)
      names.add(c.name)
    }
    const running = declared.map((c) => new RunningConstraint(pipeline, c, this, fields))
    this.byPipeline.set(pipeline, running)
    for (const r of running) r.declared.bind(r)
    await this.poll(true)
    this.changed(pipeline)
  }

  detach(pipeline: string): void {
    for (const r of this.byPipeline.get(pipeline) ?? []) {
      r.declared.unbind(r)
      r.rate?.close()
      r.ingestRate?.close()
    }
    this.byPipeline.delete(pipeline)
    this.snapshotCache.delete(pipeline)
  }

  /** Reads persisted state and applies versions newer than what runs. */
  private async poll(force = false): Promise<void> {
    if (this.polling && !force) return
    this.polling = true
    try {
      for (const s of await this.store.load()) {
        const r = this.get(s.pipeline, s.constraint)
        if (!r || s.version <= r.version) continue
        try {
          r.applyState(s.enabled, checkConfig(r.name, r.declared.spec.type, JSON.parse(s.config), r.fields), s.version)
          r.storedStateError = null
        } catch (error) {
          // Reported (log, status, metric-free) and skipped: the constraint keeps its last good config, ingest goes on.
          r.version = s.version
          r.storedStateError = `stored state of version ${s.version} ignored: ${messageOf(error)}`
          logger.warn({ pipeline: s.pipeline, constraint: s.constraint, version: s.version, error: messageOf(error) }, 'ignoring a stored constraint state that no longer checks; the constraint keeps its last valid config')
        }
      }
    } catch (error) {
      logger.warn({ error: messageOf(error) }, 'could not read constraint state')
    } finally {
      this.polling = false
    }
  }

  /** Called when a constraint of `pipeline` changed: workers get new snapshots. */
  changed(pipeline: string): void {
    this.snapshotCache.delete(pipeline)
  }

  get(pipeline: string, name: string): RunningConstraint | undefined {
    return this.byPipeline.get(pipeline)?.find((r) => r.name === name)
  }

  /** Every running constraint. */
  all(): RunningConstraint[] {
    return [...this.byPipeline.values()].flat()
  }

  /** Enabled constraints of a pipeline, highest priority first (stable for equal priorities). */
  enabled(pipeline: string): RunningConstraint[] {
    return (this.byPipeline.get(pipeline) ?? []).filter((r) => r.enabled).sort((a, b) => b.declared.spec.priority - a.declared.spec.priority)
  }

  /** What the transform workers evaluate for a pipeline; the same array until something changes. */
  snapshots(pipeline: string): ConstraintSnapshot[] {
    let s = this.snapshotCache.get(pipeline)
    if (!s) {
      s = this.enabled(pipeline).map((r) => ({ ...r.spec, version: r.version }))
      this.snapshotCache.set(pipeline, s)
    }
    return s
  }

  async stop(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer)
      resources.release()
    }
    for (const p of [...this.byPipeline.keys()]) this.detach(p)
    await this.history.stop()
  }
}
