/**
 * Worker-side constraint evaluation for one record, in priority order (highest first;
 * contract: the first violation whose action removes the record ends its evaluation).
 *
 * - validation and per-event resource limits are decided here, by their checkers (checkers/);
 * - rate limits need state shared by all partitions, so the worker only reports the record's
 *   key: counted per key for `throttle`, or deferred to the consumer (main thread) for
 *   `dead_letter` / `drop`, which then decides in the same priority order.
 */
import { checkerFor, ResourceChecker, ValidationChecker, type Checker } from './checkers/index.ts'
import type { ConstraintAction, ConstraintResult, ConstraintSnapshot, ConstraintType, Finding, ViolationItem } from './types.ts'

export { rateKey } from './checkers/rate.ts'

/**
 * A snapshot as a worker receives it (a structured clone of the main thread's ConstraintSnapshot,
 * built from a checked spec), before its config is tied to its type again.
 */
export interface ReceivedSnapshot {
  name: string
  type: ConstraintType
  config: object
  enabled: boolean
  priority: number
  action: ConstraintAction
  version: number
}

/** Validation checkers per `<name>\0<version>`: rules compile once per config version. */
const compiled = new Map<string, ValidationChecker>()

function checkerOf(received: ReceivedSnapshot): Checker {
  // The main thread sent a ConstraintSnapshot; structured cloning kept its shape, not its type.
  const c = received as ConstraintSnapshot
  if (c.type !== 'validation') return checkerFor(c)
  const id = `${c.name}\0${c.version}`
  let checker = compiled.get(id)
  if (!checker) {
    checker = new ValidationChecker(c)
    compiled.set(id, checker)
  }
  return checker
}

/** Per-record violations always remove the record: dead_letter unless the action is drop. */
function removal(c: ReceivedSnapshot): 'dead_letter' | 'drop' {
  return c.action === 'drop' ? 'drop' : 'dead_letter'
}

/** A processing-time limit: its ms and the resource checker (and snapshot) it comes from. */
export interface ProcessingLimit {
  ms: number
  constraint: ReceivedSnapshot
  checker: ResourceChecker
}

/** The enabled resource constraint with the smallest max_processing_time_ms, if any. Never throws. */
export function processingLimitOf(constraints: readonly ReceivedSnapshot[] | undefined): ProcessingLimit | undefined {
  let limit: ProcessingLimit | undefined
  for (const c of constraints ?? []) {
    if (c.type !== 'resource') continue
    const checker = checkerOf(c)
    const ms = checker.type === 'resource' ? checker.processingLimitMs : undefined
    if (checker.type === 'resource' && ms !== undefined && (!limit || ms < limit.ms)) limit = { ms, constraint: c, checker }
  }
  return limit
}

export class ConstraintEvaluator {
  readonly result: ConstraintResult = { checks: {}, violations: [], throttle: {}, deferred: [] }
  /** Smallest max_processing_time_ms among the enabled resource constraints, with its constraint. */
  readonly processingLimit: ProcessingLimit | undefined
  private readonly checkers: Array<{ c: ReceivedSnapshot; checker: Checker }>

  /**
   * @param constraints the pipeline's enabled constraints, highest priority first.
   * @param keyField the stream's Key field (named in violations), if any.
   */
  constructor(
    constraints: readonly ReceivedSnapshot[],
    private readonly keyField: string | undefined,
  ) {
    this.checkers = constraints.map((c) => ({ c, checker: checkerOf(c) }))
    this.processingLimit = processingLimitOf(constraints)
  }

  /** The record's Key value as a string ('' without a Key field or for a non-object). */
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
    for (const { c, checker } of this.checkers) {
      this.result.checks[c.name] = (this.result.checks[c.name] ?? 0) + 1
      if (checker.type === 'rate') {
        const key = checker.key(record)
        if (c.action === 'throttle') {
          const perKey = (this.result.throttle[c.name] ??= {})
          perKey[key] = (perKey[key] ?? 0) + 1
        } else {
          rates.push({ constraint: c.name, key })
        }
        continue
      }
      const finding = checker.check(record)
      if (finding) {
        terminal = this.violation(c, removal(c), index, record, finding)
        break
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

  /**
   * A violation of the processing-time limit, decided after the transforms ran (or were stopped).
   * @throws Error when the pipeline has no processing-time limit (a programmer error).
   */
  processingViolation(index: number, record: unknown, elapsedMs: number | undefined): ViolationItem {
    if (!this.processingLimit) throw new Error('no resource constraint sets max_processing_time_ms')
    const { constraint, checker } = this.processingLimit
    return this.violation(constraint, removal(constraint), index, record, checker.processingTime(elapsedMs))
  }

  private violation(c: ReceivedSnapshot, action: 'dead_letter' | 'drop', index: number, record: unknown, f: Finding): ViolationItem {
    return { constraint: c.name, type: c.type, action, index, key: this.recordKey(record), reason: f.reason, record, ...(f.field !== undefined ? { field: f.field } : {}), rule: f.rule }
  }

  /** Records a violation decided in the worker (not deferred). */
  push(v: ViolationItem): void {
    this.result.violations.push(v)
  }
}
