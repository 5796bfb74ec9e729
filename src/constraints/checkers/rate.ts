/**
 * The check of a `rate` constraint (README "Constraints": events per second and per minute,
 * optionally per `group_by` key), shared by the worker path (src/constraints/evaluate.ts: the
 * record's key), the consumer (src/constraints/enforce.ts: throttling and refusals) and the
 * on-demand path (`Constraint.apply`, src/constraints/running.ts). The token buckets themselves
 * are state of the running constraint (src/constraints/rate.ts); this holds the key and the
 * messages, the same texts on every path.
 */
import { RateLimitExceededError } from '../../errors.ts'
import type { RateSpec } from '../types.ts'

/** The rate key of a record: the `group_by` values joined by `|`, or `*` without group_by. */
export function rateKey(record: Record<string, unknown>, groupBy: string[] | undefined): string {
  if (!groupBy || groupBy.length === 0) return '*'
  return groupBy.map((f) => String(record[f] ?? '')).join('|')
}

export class RateChecker {
  readonly type = 'rate'

  constructor(readonly spec: RateSpec) {}

  /** The record's rate key (see rateKey). Never throws. */
  key(record: Record<string, unknown>): string {
    return rateKey(record, this.spec.config.group_by)
  }

  /** The limits as text, e.g. `10/s, 100/min`. */
  get limitText(): string {
    const c = this.spec.config
    return [c.max_events_per_second && `${c.max_events_per_second}/s`, c.max_events_per_minute && `${c.max_events_per_minute}/min`].filter(Boolean).join(', ')
  }

  /** Message of a record refused on the consumer path (action dead_letter or drop). */
  exceeded(key: string): string {
    return `constraint "${this.spec.name}": rate limit ${this.limitText} exceeded for key "${key}"`
  }

  /** Message of consumption waiting on a throttling limit, `waitedMs` in ms. */
  throttled(key: string, waitedMs: number): string {
    return `constraint "${this.spec.name}": rate limit reached for key "${key}"; consumption waited ${Math.round(waitedMs)} ms`
  }

  /** Message of a record refused on demand (`Constraint.apply`). */
  refused(key: string): string {
    return `constraint "${this.spec.name}": rate limit exceeded for key "${key}"`
  }

  /** The error `Constraint.apply` throws: RateLimitExceededError with the wait in ms (at least 1). */
  error(details: string, retryAfterMs: number, pipeline: string): RateLimitExceededError {
    return new RateLimitExceededError(details, Math.max(1, retryAfterMs), { pipeline, constraint: this.spec.name })
  }
}
