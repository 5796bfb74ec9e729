/**
 * Turns ajv errors into one line per field: the field as a user wrote it (`date`,
 * `route.origin`, `tags[2]`, `Rotten Tomatoes Rating`), what the value was, and what the schema
 * expects, e.g. `field "kind": got string "c", expected one of "a", "b"` or
 * `field "US Gross": got null, expected number`.
 *
 * ajv reports a failing union once per branch plus once for the `anyOf`; these are folded into
 * one line: the branch of the value's own JSON type when there is one (its errors are the real
 * problem), the union as a whole otherwise. The value and the schema come from ajv's `verbose`
 * errors (createAjv sets it); without them the line says what ajv says.
 */
import type { ErrorObject } from 'ajv'

export interface FieldError {
  /** Path of the field (`route.origin`, `tags[2]`), `''` for the record itself. */
  field: string
  /** `got <value>, expected <what>`, or `is not in the schema` for an unknown field. */
  reason: string
  /** The JSON Schema keyword that failed (required, type, anyOf, enum, format, minimum, additionalProperties ...). */
  rule: string
}

type Schema = Record<string, unknown>

/** How many characters of a string value a message quotes. */
const QUOTED_MAX_CHARS = 40

function pathOf(error: ErrorObject): string[] {
  const parts = error.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (error.keyword === 'required') parts.push(String((error.params as { missingProperty: string }).missingProperty))
  if (error.keyword === 'additionalProperties') parts.push(String((error.params as { additionalProperty: string }).additionalProperty))
  return parts
}

function fieldOf(error: ErrorObject): string {
  return pathOf(error).reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '')
}

function jsonType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

/** `null`, `string "abc"`, `number 1.5`, `boolean true`, `object`, `array`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') {
    const text = value.length > QUOTED_MAX_CHARS ? `${value.slice(0, QUOTED_MAX_CHARS)}…` : value
    return `string ${JSON.stringify(text)}`
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`
  return jsonType(value)
}

function values(list: unknown[]): string {
  return list.map((v) => JSON.stringify(v)).join(', ')
}

/** What a schema accepts, in words: `number`, `one of "a", "b"`, `date-time string`, `number or null`. */
export function describeSchema(schema: unknown): string {
  if (typeof schema !== 'object' || schema === null) return 'anything'
  const node = schema as Schema
  const members = (node.anyOf ?? node.oneOf) as unknown
  if (Array.isArray(members)) {
    const consts = members.filter((m) => (m as Schema)?.const !== undefined).map((m) => (m as Schema).const)
    const rest = members.filter((m) => (m as Schema)?.const === undefined).map(describeSchema)
    return [...(consts.length > 0 ? [`one of ${values(consts)}`] : []), ...rest].join(' or ')
  }
  if (Array.isArray(node.enum)) return `one of ${values(node.enum)}`
  if (node.const !== undefined) return JSON.stringify(node.const)
  const type = Array.isArray(node.type) ? (node.type as string[]).join(' or ') : (node.type as string | undefined)
  const annotation = node['x-clickhouse']
  if (type === 'string') {
    if (node.format === 'date-time') return 'date-time string (RFC 3339)'
    if (node.format === 'date') return 'date string (YYYY-MM-DD)'
    if (typeof annotation === 'string' && /Int/.test(annotation)) return `decimal string (${annotation})`
    if (typeof node.format === 'string') return `${node.format} string`
  }
  if (type === 'integer' && typeof annotation === 'string') return `integer (${annotation})`
  return type ?? 'a value'
}

/** The `expected ...` part for one error. */
function expectedOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>
  const parent = error.parentSchema as Schema | undefined
  switch (error.keyword) {
    case 'required': {
      const properties = (parent?.properties ?? {}) as Record<string, unknown>
      return describeSchema(properties[String(params.missingProperty)])
    }
    case 'type':
    case 'anyOf':
    case 'oneOf':
      return parent ? describeSchema(parent) : String(params.type ?? error.keyword)
    case 'enum':
      return `one of ${values(params.allowedValues as unknown[])}`
    case 'const':
      return JSON.stringify(params.allowedValue)
    case 'format':
      return parent ? describeSchema(parent) : `${String(params.format)} string`
    case 'pattern':
      return `string matching /${String(params.pattern)}/`
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `number ${String(params.comparison)} ${String(params.limit)}`
    case 'minLength':
      return `string of at least ${String(params.limit)} characters`
    case 'maxLength':
      return `string of at most ${String(params.limit)} characters`
    case 'minItems':
      return `array of at least ${String(params.limit)} items`
    case 'maxItems':
      return `array of at most ${String(params.limit)} items`
    case 'x-clickhouse': {
      const match = /\[.*\]/.exec(error.message ?? '')
      return `integer within ${String(params.type)} range ${match?.[0] ?? ''}`.trim()
    }
    default:
      return error.message ?? error.keyword
  }
}

function reasonOf(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return 'is not in the schema'
  if (error.keyword === 'required') return `is missing, expected ${expectedOf(error)}`
  if (!('data' in error)) return error.message ?? error.keyword
  return `got ${describeValue(error.data)}, expected ${expectedOf(error)}`
}

function typeMatches(schema: unknown, value: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false
  const node = schema as Schema
  if (node.const !== undefined || node.enum !== undefined) return false
  const types = [node.type].flat()
  const actual = jsonType(value)
  return types.includes(actual) || (actual === 'integer' && types.includes('number'))
}

/**
 * Drops the noise of unions: for each failing `anyOf`, keeps the errors of the branch whose
 * type is the value's (the real problem, e.g. a bad field inside a nullable object) and drops
 * the union error; when no branch has the value's type, keeps only the union error.
 */
function foldUnions(errors: ErrorObject[]): ErrorObject[] {
  let kept = errors
  for (const union of errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')) {
    if (!kept.includes(union)) continue
    const branches = Array.isArray(union.schema) ? (union.schema as unknown[]) : []
    const within = (e: ErrorObject, prefix: string) => e !== union && e.schemaPath.startsWith(prefix)
    const branch = 'data' in union ? branches.findIndex((b) => typeMatches(b, union.data)) : -1
    const all = `${union.schemaPath}/`
    if (branch >= 0) {
      const own = `${union.schemaPath}/${branch}/`
      kept = kept.filter((e) => e !== union && (!within(e, all) || within(e, own)))
    } else {
      kept = kept.filter((e) => !within(e, all))
    }
  }
  return kept
}

/**
 * Maps ajv's `validate.errors` (may be null) to one error per field, in ajv's order: the first
 * remaining error of each field after unions are folded.
 */
export function fieldErrors(errors: ErrorObject[] | null | undefined): FieldError[] {
  const seen = new Set<string>()
  const out: FieldError[] = []
  for (const error of foldUnions(errors ?? [])) {
    const field = fieldOf(error)
    if (seen.has(field)) continue
    seen.add(field)
    out.push({ field, reason: reasonOf(error), rule: error.keyword })
  }
  return out
}

/** One line per field, for a DLQ reason: `field "delay": got string "x", expected integer (Int32)`; the record itself is `record: ...`. */
export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return describeFieldErrors(fieldErrors(errors))
}

/** The lines of describeErrors for field errors already mapped. */
export function describeFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => (e.field ? `field "${e.field}": ${e.reason}` : `record: ${e.reason}`)).join('\n')
}
