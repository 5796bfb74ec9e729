/**
 * How the model reports configuration problems. Every message has one format:
 *
 *   <kind> "<name>": [field "<path>": | option "<option>": | transform <n>: ]<what is wrong>; <how to fix it>
 *
 * e.g. `pipeline "flights": field "date": orderByFields must not contain optional fields;
 * make "date" required or remove it from orderByFields`. The error's context carries the
 * owner (`pipeline` | `stream` | `table` | `view`), the `field` or `option`, and the `rule`.
 */
import { ConfigError } from '../errors.ts'

export type OwnerKind = 'pipeline' | 'stream' | 'table' | 'view'

/** The definition a problem belongs to. Problems of a pipeline's own stream or table are reported for the pipeline. */
export interface Owner {
  kind: OwnerKind
  name: string
}

/** The owner to report for a stream or table: its pipeline when it belongs to one. */
export function ownerOf(kind: 'stream' | 'table', name: string, pipeline: string | undefined): Owner {
  return pipeline === undefined ? { kind, name } : { kind: 'pipeline', name: pipeline }
}

/** What inside the owner is wrong: a schema field (dotted path, `[]` for array elements), an option, or a transform by position. */
export type Subject = { field: string } | { option: string } | { transform: number } | undefined

/** Stable identifiers of the rules, in `error.context.rule`. */
export type Rule =
  | 'name'
  | 'unique-name'
  | 'schema'
  | 'type'
  | 'key'
  | 'order-by'
  | 'engine'
  | 'settings'
  | 'parallelism'
  | 'retention-period'
  | 'destination'
  | 'format'
  | 'option'
  | 'view'

/** `^[A-Za-z_][A-Za-z0-9_]*$`: valid unquoted in ClickHouse and as a Kafka topic. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

function subjectText(subject: Subject): string {
  if (subject === undefined) return ''
  if ('field' in subject) return `field "${subject.field}": `
  if ('option' in subject) return `option "${subject.option}": `
  return `transform ${subject.transform}: `
}

/** Builds the ConfigError for one broken rule, in the format above. */
export function configError(owner: Owner, subject: Subject, rule: Rule, problem: string, fix: string): ConfigError {
  const context: Record<string, unknown> = { [owner.kind]: owner.name, rule }
  if (subject !== undefined) Object.assign(context, subject)
  return new ConfigError(`${owner.kind} "${owner.name}": ${subjectText(subject)}${problem}; ${fix}`, context)
}

/** A value as it appears after "got" in a message: JSON for data, the type name otherwise. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined'
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'bigint') return `${value}n`
  try {
    return JSON.stringify(value) ?? typeof value
  } catch {
    return typeof value
  }
}

/** Checks a ClickHouse/Kafka name; `subject` is undefined for the owner's own name. */
export function checkIdentifier(owner: Owner, subject: Subject, value: unknown, what: string): void {
  if (typeof value === 'string' && IDENTIFIER.test(value)) return
  const suggestion = typeof value === 'string' ? value.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])/, '_') : ''
  const fix = suggestion === '' ? `use letters, digits and _ only, starting with a letter or _` : `use letters, digits and _ only, starting with a letter or _, e.g. "${suggestion}"`
  throw configError(owner, subject, 'name', `${what} must match ${IDENTIFIER.source} (got ${describe(value)})`, fix)
}

/** `"a", "b", "c"` */
export function quoteList(names: readonly string[]): string {
  return names.map((name) => `"${name}"`).join(', ')
}
