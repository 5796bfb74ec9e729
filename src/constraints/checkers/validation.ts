/**
 * The check of a `validation` constraint, shared by the worker path (src/constraints/evaluate.ts)
 * and the on-demand path (`Constraint.apply`, src/constraints/running.ts): the per-field rules
 * compiled once per config (src/constraints/validation.ts, contract: rules compile to JSON Schema
 * for ajv), and the message of a failing record:
 * `constraint "<name>": field "<field>": rule <rule>: <reason>`.
 */
import { ValidationError } from '../../errors.ts'
import type { ConstraintAction, Finding, ValidationSpec } from '../types.ts'
import { compileRules, type CompiledRules } from '../validation.ts'

export class ValidationChecker {
  readonly type = 'validation'
  private readonly rules: CompiledRules

  /** Compiles the rules of `spec.config` (ajv; callers keep one checker per config version). */
  constructor(readonly spec: ValidationSpec) {
    this.rules = compileRules(spec.config)
  }

  /**
   * @returns undefined when the record passes every rule, else the first failing field and rule
   *   with the violation's message. Never throws.
   */
  check(record: unknown): Finding | undefined {
    const failure = this.rules.check(record)
    if (!failure) return undefined
    return { reason: `constraint "${this.spec.name}": field "${failure.field}": rule ${failure.rule}: ${failure.reason}`, field: failure.field, rule: failure.rule }
  }

  /** The action a violation found on demand is recorded with: the constraint's own (dead_letter or drop). */
  get onDemandAction(): ConstraintAction {
    return this.spec.action
  }

  /** The error `Constraint.apply` throws for a finding: ValidationError with the field and rule in its context. */
  error(finding: Finding, pipeline: string): ValidationError {
    return new ValidationError(finding.reason, { pipeline, constraint: this.spec.name, field: finding.field, rule: finding.rule })
  }
}
