/**
 * One checker per constraint type (rate, validation, resource), used by the worker path
 * (src/constraints/evaluate.ts), the consumer (src/constraints/enforce.ts) and the on-demand
 * path (src/constraints/running.ts), so each check and its message exist once.
 */
import type { ConstraintSpec } from '../types.ts'
import { RateChecker } from './rate.ts'
import { ResourceChecker } from './resource.ts'
import { ValidationChecker } from './validation.ts'

export { RateChecker } from './rate.ts'
export { ResourceChecker } from './resource.ts'
export { ValidationChecker } from './validation.ts'

/** The checker of one constraint; `type` tells which. */
export type Checker = RateChecker | ValidationChecker | ResourceChecker

/** The checker for a spec (a validation checker compiles its rules here). Never throws for a checked spec. */
export function checkerFor(spec: ConstraintSpec): Checker {
  switch (spec.type) {
    case 'rate':
      return new RateChecker(spec)
    case 'validation':
      return new ValidationChecker(spec)
    case 'resource':
      return new ResourceChecker(spec)
  }
}
