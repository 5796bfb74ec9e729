/**
 * The checks of a `resource` constraint (README "Constraints"), shared by the worker path
 * (src/constraints/evaluate.ts), the consumer's gate (src/constraints/enforce.ts) and the
 * on-demand path (`Constraint.apply`, src/constraints/running.ts):
 * - max_memory_per_event_kb: a record whose JSON is larger is a violation;
 * - max_processing_time_ms: a record whose transforms take longer is a violation;
 * - max_memory_mb: consumption pauses while the daemon's resident memory is above it;
 * - max_cpu_percent: consumption is throttled while the daemon's CPU is above it.
 * Each returns the violation's message; the same texts on every path.
 */
import { ResourceLimitExceededError } from '../../errors.ts'
import type { Finding, ResourceSpec } from '../types.ts'

export class ResourceChecker {
  readonly type = 'resource'

  constructor(readonly spec: ResourceSpec) {}

  /**
   * The per-event size limit (max_memory_per_event_kb, in KiB of the record's JSON).
   * @returns undefined when the record fits or no limit is set. Never throws.
   */
  check(record: unknown): Finding | undefined {
    const kb = this.spec.config.max_memory_per_event_kb
    if (kb === undefined) return undefined
    const bytes = Buffer.byteLength(JSON.stringify(record))
    if (bytes <= kb * 1024) return undefined
    return { reason: `constraint "${this.spec.name}": event is ${bytes} bytes, over max_memory_per_event_kb ${kb} (${kb * 1024} bytes)`, rule: 'max_memory_per_event_kb' }
  }

  /** max_processing_time_ms, when set. */
  get processingLimitMs(): number | undefined {
    return this.spec.config.max_processing_time_ms
  }

  /**
   * The violation of the processing-time limit, decided after the transforms ran (or were stopped).
   * @param elapsedMs how long the transforms took; undefined when they did not return in time and
   *   their worker was stopped.
   * @throws Error when the constraint has no max_processing_time_ms (a programmer error).
   */
  processingTime(elapsedMs: number | undefined): Finding {
    const ms = this.processingLimitMs
    if (ms === undefined) throw new Error(`constraint "${this.spec.name}" has no max_processing_time_ms`)
    const took = elapsedMs === undefined ? `did not return within ${ms} ms and its worker was stopped` : `took ${Math.round(elapsedMs)} ms`
    return { reason: `constraint "${this.spec.name}": transform ${took}, over max_processing_time_ms ${ms}`, rule: 'max_processing_time_ms' }
  }

  /** @returns the pause's message when `rssMb` (MiB) is over max_memory_mb, else undefined. */
  memory(rssMb: number): Finding | undefined {
    const mb = this.spec.config.max_memory_mb
    if (mb === undefined || rssMb <= mb) return undefined
    return { reason: `constraint "${this.spec.name}": resident memory ${Math.round(rssMb)} MiB over max_memory_mb ${mb}; consumption paused`, rule: 'max_memory_mb' }
  }

  /** @returns the throttling's message when `cpuPercent` is over max_cpu_percent, else undefined. */
  cpu(cpuPercent: number): Finding | undefined {
    const pct = this.spec.config.max_cpu_percent
    if (pct === undefined || cpuPercent <= pct) return undefined
    return { reason: `constraint "${this.spec.name}": CPU ${cpuPercent.toFixed(0)}% over max_cpu_percent ${pct}; consumption throttled`, rule: 'max_cpu_percent' }
  }

  /** The action a violation found on demand is recorded with: always dead_letter. */
  get onDemandAction(): 'dead_letter' {
    return 'dead_letter'
  }

  /** The error `Constraint.apply` throws for a finding: ResourceLimitExceededError naming the rule. */
  error(finding: Finding, pipeline: string): ResourceLimitExceededError {
    return new ResourceLimitExceededError(finding.reason, { pipeline, constraint: this.spec.name, rule: finding.rule })
  }
}
