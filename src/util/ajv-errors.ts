/**
 * Turns ajv errors into `{ field, reason }` pairs that name the offending field the way a
 * user wrote it: `date`, `route.origin`, `tags[2]`; a missing required property names itself.
 */
import type { ErrorObject } from 'ajv'

export interface FieldError {
  /** Dotted path of the field, `''` for the record itself. */
  field: string
  /** ajv's message plus the rule's parameter where it helps, e.g. `must match format "date-time"`. */
  reason: string
  /** The JSON Schema keyword that failed (required, type, pattern, enum, format, minimum ...). */
  rule: string
}

function fieldOf(error: ErrorObject): string {
  const parts = error.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (error.keyword === 'required') parts.push(String((error.params as { missingProperty: string }).missingProperty))
  if (error.keyword === 'additionalProperties') parts.push(String((error.params as { additionalProperty: string }).additionalProperty))
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '')
}

function reasonOf(error: ErrorObject): string {
  if (error.keyword === 'enum') return `must be one of ${JSON.stringify((error.params as { allowedValues: unknown[] }).allowedValues)}`
  if (error.keyword === 'required') return 'is required'
  return error.message ?? error.keyword
}

/** Maps ajv's `validate.errors` (may be null) to field errors, in ajv's order. */
export function fieldErrors(errors: ErrorObject[] | null | undefined): FieldError[] {
  return (errors ?? []).map((e) => ({ field: fieldOf(e), reason: reasonOf(e), rule: e.keyword }))
}

/** One line for a DLQ reason: `field "delay": must be integer; field "id": is required`. */
export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return fieldErrors(errors)
    .map((e) => (e.field ? `field "${e.field}": ${e.reason}` : e.reason))
    .join('; ')
}
