/**
 * Validation constraints: per-field rules (required, pattern, enum, format iso8601, min, max,
 * max_size) compiled once per config into a JSON Schema for ajv (contract: rules compile to
 * JSON Schema). A failing record yields the constraint, the field and the rule.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import type { ValidationConfig } from './types.ts'

/** ISO-8601 calendar date, or date-time with optional seconds, fraction and offset. */
const ISO8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/

function isIso8601(value: string): boolean {
  return ISO8601.test(value) && !Number.isNaN(Date.parse(value.replace(' ', 'T').replace(',', '.')))
}

const ajv = new Ajv({ allErrors: false, strict: false })
ajv.addFormat('iso8601', { type: 'string', validate: isIso8601 })
ajv.addKeyword({
  keyword: 'x-max-size',
  type: undefined,
  schemaType: 'number',
  errors: true,
  validate: function maxSize(limit: number, data: unknown) {
    return Buffer.byteLength(JSON.stringify(data) ?? '') <= limit
  },
})

/** The JSON Schema of one field's rule (type, pattern, enum, format, min, max, max_size), null handling aside. */
function leafSchema(rule: ValidationConfig['rules'][string]): Record<string, unknown> {
  const p: Record<string, unknown> = {}
  if (rule.pattern !== undefined) Object.assign(p, { pattern: rule.pattern })
  if (rule.enum !== undefined) p.enum = rule.enum
  if (rule.format === 'iso8601') Object.assign(p, { type: 'string', format: 'iso8601' })
  if (rule.min !== undefined || rule.max !== undefined) p.type = 'number'
  if (rule.min !== undefined) p.minimum = rule.min
  if (rule.max !== undefined) p.maximum = rule.max
  if (rule.max_size !== undefined) p['x-max-size'] = rule.max_size
  if (rule.pattern !== undefined && p.type === undefined) p.type = 'string'
  // A present null counts as absent for a field that is not required.
  return rule.required ? { not: { type: 'null' }, ...p } : { anyOf: [{ type: 'null' }, p] }
}

interface RuleNode {
  leaf?: Record<string, unknown>
  required: boolean
  children: Map<string, RuleNode>
}

function objectSchema(children: Map<string, RuleNode>): { properties: Record<string, unknown>; required: string[] } {
  const properties: Record<string, unknown> = {}
  const required: string[] = []
  for (const [name, child] of children) {
    if (child.required) required.push(name)
    if (child.children.size === 0) {
      properties[name] = child.leaf
      continue
    }
    const nested = objectSchema(child.children)
    // A nested rule applies when the parent is an object; a parent holding a required field must be one.
    properties[name] = child.required ? { type: 'object', ...nested } : { if: { type: 'object' }, then: nested }
  }
  return { properties, required }
}

/**
 * The JSON Schema a validation config compiles to. A rule's field is a dotted path into nested
 * objects (`'properties.mag'`): each dot is one level, and a rule applies where its parents are
 * objects (a required nested field also requires its parents). Exposed for tests and documentation.
 */
export function rulesToJsonSchema(config: ValidationConfig): Record<string, unknown> {
  const root: RuleNode = { required: false, children: new Map() }
  for (const [field, rule] of Object.entries(config.rules)) {
    let node = root
    const path = field.split('.')
    for (const [depth, part] of path.entries()) {
      let child = node.children.get(part)
      if (child === undefined) node.children.set(part, (child = { required: false, children: new Map() }))
      if (rule.required) child.required = true
      if (depth === path.length - 1) child.leaf = leafSchema(rule)
      node = child
    }
  }
  return { type: 'object', ...objectSchema(root.children) }
}

const RULE_OF: Record<string, string> = { required: 'required', pattern: 'pattern', enum: 'enum', format: 'format', minimum: 'min', maximum: 'max', 'x-max-size': 'max_size', type: 'type', not: 'required' }

export interface RuleFailure {
  field: string
  /** The constraint's rule name: required, pattern, enum, format, min, max, max_size (or type). */
  rule: string
  reason: string
}

function failureOf(errors: ErrorObject[], config: ValidationConfig): RuleFailure {
  // anyOf wraps the real error; prefer the innermost one that is not the null branch.
  const e = errors.find((x) => x.keyword !== 'anyOf' && x.keyword !== 'if' && !(x.keyword === 'type' && (x.params as { type?: string }).type === 'null')) ?? errors[0]!
  const path = e.instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (e.keyword === 'required') path.push(String((e.params as { missingProperty: string }).missingProperty))
  const at = path.join('.')
  // A missing or non-object parent of a nested rule reports the rule's own field.
  const nested = Object.keys(config.rules).filter((f) => f.startsWith(`${at}.`))
  const field = config.rules[at] !== undefined ? at : ((e.keyword === 'required' ? nested.find((f) => config.rules[f]?.required) : undefined) ?? nested[0] ?? at)
  if (e.keyword === 'type' && config.rules[at] === undefined) return { field, rule: config.rules[field]?.required ? 'required' : 'type', reason: config.rules[field]?.required ? 'is required' : 'must be an object' }
  const rule = RULE_OF[e.keyword] ?? e.keyword
  const spec = config.rules[field]
  let reason: string
  if (rule === 'required') reason = 'is required'
  else if (rule === 'pattern') reason = `must match pattern ${JSON.stringify(spec?.pattern)}`
  else if (rule === 'enum') reason = `must be one of ${JSON.stringify(spec?.enum)}`
  else if (rule === 'format') reason = 'must be an ISO-8601 date or date-time'
  else if (rule === 'min') reason = `must be >= ${spec?.min}`
  else if (rule === 'max') reason = `must be <= ${spec?.max}`
  else if (rule === 'max_size') reason = `must be at most ${spec?.max_size} bytes as JSON`
  else if (rule === 'type' && (spec?.min !== undefined || spec?.max !== undefined)) return { field, rule: spec.min !== undefined ? 'min' : 'max', reason: 'must be a number' }
  else reason = e.message ?? e.keyword
  return { field, rule, reason }
}

export interface CompiledRules {
  /** @returns undefined when the record passes, else the first failing field and rule. */
  check(record: unknown): RuleFailure | undefined
}

/** Compiles a validation config (ajv, once per call; callers cache per config version). */
export function compileRules(config: ValidationConfig): CompiledRules {
  const validate: ValidateFunction = ajv.compile(rulesToJsonSchema(config))
  return {
    check(record) {
      if (validate(record)) return undefined
      return failureOf(validate.errors ?? [], config)
    },
  }
}
