/**
 * The running constraints of a daemon, per (pipeline, constraint name): the set the consumers,
 * the ingest API, the HTTP admin API and the CLI look constraints up in, following run-time
 * changes persisted by any instance. Each entry is a RunningConstraint (running.ts); the checks
 * themselves are in checkers/. A change takes effect at once on this instance and within
 * `pollMs` (1 s) on every other instance sharing the ClickHouse (contract: within 2 s, no restart).
 */
import { FlowhouseError, messageOf } from '../errors.ts'
import { stageLog } from '../util/log.ts'
import { withConfig, type Constraint } from './constraint.ts'
import type { ViolationHistory } from './history.ts'
import type { SharedRates } from './rate.ts'
import { resources } from './resource.ts'
import { RunningConstraint, type ConstraintHost } from './running.ts'
import type { ConstraintStore } from './store.ts'
import type { ConstraintSnapshot } from './types.ts'

export { RunningConstraint } from './running.ts'

const logger = stageLog('constraints')

/** The running constraints of a daemon, by pipeline and name. */
export class ConstraintRegistry implements ConstraintHost {
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
          r.applyState({ ...withConfig(r.spec, JSON.parse(s.config), r.fields), enabled: s.enabled }, s.version)
          r.storedStateError = null
        } catch (error) {
          // Reported (log, status, metric-free) and skipped: the constraint keeps its last good config, ingest goes on.
          r.version = s.version
          r.storedStateError = `stored state of version ${s.version} ignored: ${messageOf(error)}`
          logger.warn({ pipeline: s.pipeline, constraint: s.constraint, version: s.version, err: error }, 'ignoring a stored constraint state that no longer checks; the constraint keeps its last valid config')
        }
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not read constraint state')
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
    return (this.byPipeline.get(pipeline) ?? []).filter((r) => r.enabled).sort((a, b) => b.spec.priority - a.spec.priority)
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
