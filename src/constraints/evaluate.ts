/**
 * Worker-side constraint evaluation for one record, in priority order (highest first;
 * contract: the first violation whose action removes the record ends its evaluation).
 *
 * - validation and per-event resource limits are decided here;
 * - rate limits need state shared by all partitions, so the worker only reports the record's
 *   key: counted per key for `throttle`, or deferred to the consumer (main thread) for
 *   `dead_letter` / `drop`, which then decides in the same priority order.
 */
import { compileRules, type CompiledRules } from './validation.ts'
import type { ConstraintResult, ConstraintSnapshot, RateConfig, ResourceConfig, ValidationConfig, ViolationItem } from './types.ts'

const compiled = new Map<string, CompiledRules>()

function rulesOf(c: ConstraintSnapshot): CompiledRules {
  const id = `${c.name}\0${c.version}`
  let rules = compiled.get(id)
  if (!rules) {
    rules = compileRules(c.config as ValidationConfig)
    compiled.set(id, rules)
  }
  return rules
}

/** The rate key of a record: the `group_by` values joined by `|`, or `*` without group_by. */
export function rateKey(record: Record<string, unknown>, groupBy: string[] | undefined): string {
  if (!groupBy || groupBy.length === 0) return '*'
  return groupBy.map((f) => String(record[f] ?? '')).join('|')
}

/** Per-record resource violations always remove the record: dead_letter unless the action is drop. */
function removal(c: ConstraintSnapshot): 'dead_letter' | 'drop' {
  return c.action === 'drop' ? 'drop' : 'dead_letter'
}

/** The enabled resource constraint with the smallest max_processing_time_ms, if any. */
export function processingLimitOf(constraints: readonly ConstraintSnapshot[] | undefined): { ms: number; constraint: ConstraintSnapshot } | undefined {
  let limit: { ms: number; constraint: ConstraintSnapshot } | undefined
  for (const c of constraints ?? []) {
    const ms = c.type === 'resource' ? (c.config as ResourceConfig).max_processing_time_ms : undefined
    if (ms !== undefined && (!limit || ms < limit.ms)) limit = { ms, constraint: c }
  }
  return limit
}

export class ConstraintEvaluator {
  readonly result: ConstraintResult = { checks: {}, violations: [], throttle: {}, deferred: [] }
  /** Smallest max_processing_time_ms among the enabled resource constraints, with its constraint. */
  readonly processingLimit: { ms: number; constraint: ConstraintSnapshot } | undefined

  constructor(
    private readonly constraints: ConstraintSnapshot[],
    private readonly keyField: string | undefined,
  ) {
    this.processingLimit = processingLimitOf(constraints)
  }

  recordKey(record: unknown): string {
    if (!this.keyField || typeof record !== 'object' || record === null) return ''
    return String((record as Record<string, unknown>)[this.keyField] ?? '')
  }

  /**
   * Evaluates every enabled constraint on a valid record.
   * @returns 'keep' (go on to the transforms), 'removed' (decided here), or 'deferred-removed'
   *   (removed either way, but the consumer decides which violation is recorded).
   */
  evaluate(record: Record<string, unknown>, index: number): 'keep' | 'removed' | 'deferred-removed' {
    const rates: Array<{ constraint: string; key: string }> = []
    let terminal: ViolationItem | undefined
    for (const c of this.constraints) {
      this.result.checks[c.name] = (this.result.checks[c.name] ?? 0) + 1
      if (c.type === 'rate') {
        const key = rateKey(record, (c.config as RateConfig).group_by)
        if (c.action === 'throttle') {
          const perKey = (this.result.throttle[c.name] ??= {})
          perKey[key] = (perKey[key] ?? 0) + 1
        } else {
          rates.push({ constraint: c.name, key })
        }
        continue
      }
      if (c.type === 'validation') {
        const failure = rulesOf(c).check(record)
        if (failure) {
          terminal = this.violation(c, c.action === 'drop' ? 'drop' : 'dead_letter', index, record, `constraint "${c.name}": field "${failure.field}": rule ${failure.rule}: ${failure.reason}`, { field: failure.field, rule: failure.rule })
          break
        }
        continue
      }
      const kb = (c.config as ResourceConfig).max_memory_per_event_kb
      if (kb !== undefined) {
        const bytes = Buffer.byteLength(JSON.stringify(record))
        if (bytes > kb * 1024) {
          terminal = this.violation(c, removal(c), index, record, `constraint "${c.name}": event is ${bytes} bytes, over max_memory_per_event_kb ${kb} (${kb * 1024} bytes)`, { rule: 'max_memory_per_event_kb' })
          break
        }
      }
    }
    if (rates.length > 0) {
      this.result.deferred.push({ index, rates, record, key: this.recordKey(record), ...(terminal ? { terminal } : {}) })
      return terminal ? 'deferred-removed' : 'keep'
    }
    if (terminal) {
      this.result.violations.push(terminal)
      return 'removed'
    }
    return 'keep'
  }

  /** A violation of the processing-time limit, decided after the transforms ran (or were stopped). */
  processingViolation(index: number, record: unknown, elapsedMs: number | undefined): ViolationItem {
    const { ms, constraint } = this.processingLimit!
    const took = elapsedMs === undefined ? `did not return within ${ms} ms and its worker was stopped` : `took ${Math.round(elapsedMs)} ms`
    return this.violation(constraint, removal(constraint), index, record, `constraint "${constraint.name}": transform ${took}, over max_processing_time_ms ${ms}`, { rule: 'max_processing_time_ms' })
  }

  private violation(c: ConstraintSnapshot, action: 'dead_letter' | 'drop', index: number, record: unknown, reason: string, extra: { field?: string; rule?: string }): ViolationItem {
    return { constraint: c.name, type: c.type, action, index, key: this.recordKey(record), reason, record, ...extra }
  }

  /** Records a violation decided in the worker (not deferred). */
  push(v: ViolationItem): void {
    this.result.violations.push(v)
  }
}
