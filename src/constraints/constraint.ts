/**
 * `new Constraint({ name, type, config, enabled?, priority?, action? })`, attached to a pipeline
 * with `new IngestPipeline(name, { ..., constraints: [c] })`.
 *
 * Load-time checks (contract: an unknown type, unknown config keys, or a negative or zero
 * limit fail when the module loads). Messages follow the model's format:
 * `constraint "<name>": option "<option>": <what is wrong>; <how to fix it>`.
 *
 * Once a daemon runs the pipeline, the instance is also the programmatic handle:
 * enable(), disable(), updateConfig(), getStatus(), getLimits(), getMetrics(),
 * getStatistics(), getViolations() act on the running constraint (see running.ts and registry.ts).
 */
import { ConfigError } from '../errors.ts'
import type { ConfigOf, ConstraintAction, ConstraintConfig, ConstraintSpec, ConstraintType, TypedConfig } from './types.ts'

const TYPES: readonly ConstraintType[] = ['rate', 'validation', 'resource']
const ACTIONS: readonly ConstraintAction[] = ['throttle', 'dead_letter', 'drop']
const CONFIG_KEYS: Record<ConstraintType, readonly string[]> = {
  rate: ['max_events_per_second', 'max_events_per_minute', 'group_by'],
  validation: ['rules'],
  resource: ['max_memory_mb', 'max_memory_per_event_kb', 'max_cpu_percent', 'max_processing_time_ms'],
}
const RULE_KEYS = ['required', 'pattern', 'enum', 'format', 'min', 'max', 'max_size'] as const
const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/
/** Field names in group_by and rules: plain names, and none that JavaScript objects already carry (`__proto__`, `constructor`, `valueOf` ...). */
const FIELD = /^[^\u0000-\u001f\u007f]{1,128}$/
const OBJECT_NAMES = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype', 'constructor', '__proto__'])

/**
 * Documented bounds of the numeric options (README "Constraints"): a limit outside them is
 * refused, so a stored config can never make a bucket or a timer that cannot exist.
 */
export const CONFIG_BOUNDS: Readonly<Record<string, readonly [number, number]>> = {
  max_events_per_second: [0.01, 10_000_000],
  max_events_per_minute: [1, 600_000_000],
  max_memory_mb: [1, 1_048_576],
  max_memory_per_event_kb: [1, 1_048_576],
  max_processing_time_ms: [1, 3_600_000],
  max_size: [1, 1_073_741_824],
}
const MAX_RULES = 1_000
const MAX_ENUM = 10_000
const MAX_PATTERN = 1_000

function fail(name: string, option: string | undefined, problem: string, fix: string): never {
  const subject = option === undefined ? '' : `option "${option}": `
  throw new ConfigError(`constraint "${name}": ${subject}${problem}; ${fix}`, { constraint: name, ...(option ? { option } : {}), rule: 'constraint' })
}

const got = (value: unknown) => (value === undefined ? 'undefined' : JSON.stringify(value))

function positive(name: string, option: string, value: unknown, unit: string): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(name, option, `must be a positive number of ${unit} (got ${got(value)})`, `set a limit above 0, or leave ${option.split('.').pop()} out`)
  }
  const key = option.split('.').pop() as string
  const bounds = CONFIG_BOUNDS[key]
  if (bounds && (value < bounds[0] || value > bounds[1])) {
    fail(name, option, `must be from ${bounds[0]} to ${bounds[1]} ${unit} (got ${got(value)})`, `set ${key} within those bounds, or leave it out`)
  }
}

/**
 * A top-level field name, or with `dotted` a dotted path into nested objects (validation rules):
 * each part is 1 to 128 characters without control characters (any JSON key is a field) and is
 * not a name of Object.prototype (`__proto__`, `constructor` ...), which per-key state and rule
 * lookups must never meet.
 */
function fieldName(name: string, option: string, field: string, fields: ReadonlySet<string> | undefined, dotted = false): void {
  const parts = dotted ? field.split('.') : [field]
  if (parts.some((part) => !FIELD.test(part) || OBJECT_NAMES.has(part)) || (!dotted && field.includes('.'))) {
    const where = dotted ? 'a field of the schema, nested fields as dotted paths' : 'a top-level field of the schema'
    fail(name, option, `${got(field)} is not a field name`, `use ${where} (names of 1 to 128 characters, not __proto__, constructor or other Object.prototype names)`)
  }
  if (fields && !fields.has(field)) fail(name, option, `field ${got(field)} is not in the pipeline's schema`, `use one of ${[...fields].join(', ')}`)
}

function checkKeys(name: string, where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(name, `${where}.${key}`, `unknown key`, `use one of ${allowed.join(', ')}`)
  }
}

/**
 * Checks a constraint config for its type and returns it unchanged: known keys only, finite
 * numbers within CONFIG_BOUNDS, field names that are plain names (never `__proto__`-like) and,
 * when `fields` is given, fields of the pipeline's schema (group_by).
 * @param fields the pipeline's top-level schema fields, when known (run-time changes).
 * @throws ConfigError (exact wording tested in test/unit/constraints/constraint.test.ts).
 */
export function checkConfig(name: string, type: 'rate', config: unknown, fields?: ReadonlySet<string>): ConfigOf<'rate'>
export function checkConfig(name: string, type: 'validation', config: unknown, fields?: ReadonlySet<string>): ConfigOf<'validation'>
export function checkConfig(name: string, type: 'resource', config: unknown, fields?: ReadonlySet<string>): ConfigOf<'resource'>
export function checkConfig(name: string, type: ConstraintType, config: unknown, fields?: ReadonlySet<string>): ConstraintConfig
export function checkConfig(name: string, type: ConstraintType, config: unknown, fields?: ReadonlySet<string>): ConstraintConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    fail(name, 'config', `must be an object (got ${got(config)})`, `pass config: { ${CONFIG_KEYS[type].join(', ')} }`)
  }
  const c = config as Record<string, unknown>
  checkKeys(name, 'config', c, CONFIG_KEYS[type])
  if (type === 'rate') {
    positive(name, 'config.max_events_per_second', c.max_events_per_second, 'events per second')
    positive(name, 'config.max_events_per_minute', c.max_events_per_minute, 'events per minute')
    if (c.max_events_per_second === undefined && c.max_events_per_minute === undefined) {
      fail(name, 'config', 'a rate constraint needs max_events_per_second or max_events_per_minute', 'set at least one of them')
    }
    if (c.group_by !== undefined && (!Array.isArray(c.group_by) || c.group_by.length === 0 || !c.group_by.every((f) => typeof f === 'string' && f !== ''))) {
      fail(name, 'config.group_by', `must be a non-empty list of field names (got ${got(c.group_by)})`, 'pass e.g. group_by: ["user_id"], or leave it out for one limit over all records')
    }
    if (Array.isArray(c.group_by)) {
      if (c.group_by.length > 16) fail(name, 'config.group_by', `groups by at most 16 fields (got ${c.group_by.length})`, 'group by fewer fields')
      for (const field of c.group_by as string[]) fieldName(name, 'config.group_by', field, fields)
    }
  } else if (type === 'resource') {
    positive(name, 'config.max_memory_mb', c.max_memory_mb, 'MiB')
    positive(name, 'config.max_memory_per_event_kb', c.max_memory_per_event_kb, 'KiB')
    positive(name, 'config.max_cpu_percent', c.max_cpu_percent, 'percent')
    positive(name, 'config.max_processing_time_ms', c.max_processing_time_ms, 'milliseconds')
    if (typeof c.max_cpu_percent === 'number' && c.max_cpu_percent > 100) {
      fail(name, 'config.max_cpu_percent', `must be at most 100 (got ${c.max_cpu_percent})`, 'give a percent of the whole machine, 1 to 100')
    }
    if (Object.keys(c).length === 0) fail(name, 'config', 'a resource constraint needs at least one limit', `set one of ${CONFIG_KEYS.resource.join(', ')}`)
  } else {
    const rules = c.rules
    if (typeof rules !== 'object' || rules === null || Array.isArray(rules) || Object.keys(rules).length === 0) {
      fail(name, 'config.rules', `must map field names to rules (got ${got(rules)})`, 'pass rules: { user_id: { required: true, pattern: "..." } }')
    }
    if (Object.keys(rules as object).length > MAX_RULES) fail(name, 'config.rules', `has more than ${MAX_RULES} fields`, 'split the rules over several constraints')
    for (const [field, rule] of Object.entries(rules as Record<string, unknown>)) {
      const where = `config.rules.${field}`
      fieldName(name, 'config.rules', field, undefined, true)
      if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) fail(name, where, `must be an object of rules (got ${got(rule)})`, `use keys ${RULE_KEYS.join(', ')}`)
      const r = rule as Record<string, unknown>
      checkKeys(name, where, r, RULE_KEYS)
      if (r.required !== undefined && typeof r.required !== 'boolean') fail(name, `${where}.required`, `must be true or false (got ${got(r.required)})`, 'set required: true or false')
      if (r.pattern !== undefined) {
        try {
          new RegExp(String(r.pattern), 'u')
        } catch (error) {
          fail(name, `${where}.pattern`, `is not a valid regular expression (${(error as Error).message})`, 'fix the pattern')
        }
        if (typeof r.pattern !== 'string') fail(name, `${where}.pattern`, `must be a string (got ${got(r.pattern)})`, 'pass the regular expression as a string')
        if (r.pattern.length > MAX_PATTERN) fail(name, `${where}.pattern`, `is longer than ${MAX_PATTERN} characters`, 'use a shorter pattern')
      }
      if (r.enum !== undefined && (!Array.isArray(r.enum) || r.enum.length === 0 || r.enum.length > MAX_ENUM)) fail(name, `${where}.enum`, `must be a non-empty list of at most ${MAX_ENUM} values (got ${got(r.enum)})`, 'list the allowed values')
      if (r.format !== undefined && r.format !== 'iso8601') fail(name, `${where}.format`, `unknown format ${got(r.format)}`, 'use format: "iso8601"')
      for (const bound of ['min', 'max'] as const) {
        if (r[bound] !== undefined && (typeof r[bound] !== 'number' || !Number.isFinite(r[bound]))) fail(name, `${where}.${bound}`, `must be a number (got ${got(r[bound])})`, `set ${bound} to a number`)
      }
      positive(name, `${where}.max_size`, r.max_size, 'bytes')
      if (typeof r.min === 'number' && typeof r.max === 'number' && r.min > r.max) fail(name, where, `min ${r.min} is above max ${r.max}`, 'swap them or fix one')
    }
  }
  // Every key and value was checked above for this type.
  return c as ConstraintConfig
}

/**
 * checkConfig, keeping the type and its config together.
 * @throws ConfigError as checkConfig.
 */
export function checkTyped(name: string, type: ConstraintType, config: unknown, fields?: ReadonlySet<string>): TypedConfig {
  switch (type) {
    case 'rate':
      return { type, config: checkConfig(name, type, config, fields) }
    case 'validation':
      return { type, config: checkConfig(name, type, config, fields) }
    case 'resource':
      return { type, config: checkConfig(name, type, config, fields) }
  }
}

/**
 * `spec` with `config` in place of its config, checked for the spec's type as at load time.
 * @throws ConfigError as checkConfig.
 */
export function withConfig(spec: ConstraintSpec, config: unknown, fields?: ReadonlySet<string>): ConstraintSpec {
  switch (spec.type) {
    case 'rate':
      return { ...spec, config: checkConfig(spec.name, spec.type, config, fields) }
    case 'validation':
      return { ...spec, config: checkConfig(spec.name, spec.type, config, fields) }
    case 'resource':
      return { ...spec, config: checkConfig(spec.name, spec.type, config, fields) }
  }
}

/** Options of `new Constraint(...)`. */
export interface ConstraintOptions {
  name: string
  type: ConstraintType
  config: ConstraintConfig
  /** @default true */
  enabled?: boolean
  /** Higher numbers are evaluated first. @default 0 */
  priority?: number
  /** @default 'throttle' for rate and resource, 'dead_letter' for validation */
  action?: ConstraintAction
}

/** The run-time side a daemon binds to a declared constraint (RunningConstraint, see running.ts). */
export interface ConstraintRuntime {
  enable(): Promise<void>
  disable(): Promise<void>
  updateConfig(config: Partial<ConstraintConfig>): Promise<void>
  getStatus(): Promise<unknown>
  getLimits(): Promise<unknown>
  getMetrics(): Promise<unknown>
  getStatistics(): Promise<unknown>
  getViolations(range: { startTime?: string | Date; endTime?: string | Date }): Promise<unknown[]>
  apply(record: Record<string, unknown>): Promise<void>
}

export class Constraint {
  readonly spec: ConstraintSpec
  private runtimes: ConstraintRuntime[] = []

  /** @throws ConfigError on an unknown type or action, unknown config keys, or a limit ≤ 0. */
  constructor(options: ConstraintOptions) {
    const name = options?.name
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new ConfigError(`constraint ${got(name)}: option "name": must match ${NAME.source}; give the constraint a name of letters, digits, _ and -`, { rule: 'constraint' })
    }
    if (!TYPES.includes(options.type)) fail(name, 'type', `unknown type ${got(options.type)}`, `use one of ${TYPES.join(', ')}`)
    const typed = checkTyped(name, options.type, options.config)
    const action = options.action ?? (options.type === 'validation' ? 'dead_letter' : 'throttle')
    if (!ACTIONS.includes(action)) fail(name, 'action', `unknown action ${got(action)}`, `use one of ${ACTIONS.join(', ')}`)
    if (options.type === 'validation' && action === 'throttle') fail(name, 'action', 'a validation constraint cannot throttle', 'use dead_letter (the default) or drop')
    if (options.enabled !== undefined && typeof options.enabled !== 'boolean') fail(name, 'enabled', `must be true or false (got ${got(options.enabled)})`, 'set enabled: true or false')
    if (options.priority !== undefined && (typeof options.priority !== 'number' || !Number.isInteger(options.priority))) {
      fail(name, 'priority', `must be an integer (got ${got(options.priority)})`, 'higher numbers run first; leave it out for 0')
    }
    this.spec = { name, ...typed, enabled: options.enabled ?? true, priority: options.priority ?? 0, action }
  }

  get name(): string {
    return this.spec.name
  }

  /** Called by the daemon when it starts a pipeline carrying this constraint. */
  bind(runtime: ConstraintRuntime): void {
    this.runtimes.push(runtime)
  }

  /** Called by the daemon when it stops the pipeline. */
  unbind(runtime: ConstraintRuntime): void {
    this.runtimes = this.runtimes.filter((r) => r !== runtime)
  }

  private runtime(): ConstraintRuntime[] {
    if (this.runtimes.length === 0) throw new Error(`constraint "${this.name}" is not running: start a daemon with the pipeline that carries it`)
    return this.runtimes
  }

  /** Enables the constraint on every running pipeline that carries it; takes effect within 2 s and persists. */
  async enable(): Promise<void> {
    await Promise.all(this.runtime().map((r) => r.enable()))
  }
  /** Disables it (persists across restarts). */
  async disable(): Promise<void> {
    await Promise.all(this.runtime().map((r) => r.disable()))
  }
  /** Replaces keys of the config (checked as at load time). @throws ConfigError */
  async updateConfig(config: Partial<ConstraintConfig>): Promise<void> {
    await Promise.all(this.runtime().map((r) => r.updateConfig(config)))
  }
  async getStatus(): Promise<unknown> {
    return this.runtime()[0]!.getStatus()
  }
  async getLimits(): Promise<unknown> {
    return this.runtime()[0]!.getLimits()
  }
  async getMetrics(): Promise<unknown> {
    return this.runtime()[0]!.getMetrics()
  }
  async getStatistics(): Promise<unknown> {
    return this.runtime()[0]!.getStatistics()
  }
  /**
   * Checks one record against the running constraint, outside the stream.
   * @throws RateLimitExceededError, ValidationError or ResourceLimitExceededError on a violation.
   */
  async apply(record: Record<string, unknown>): Promise<void> {
    await this.runtime()[0]!.apply(record)
  }

  /** Violations between `startTime` and `endTime` (ISO-8601 strings or Dates), oldest first. */
  async getViolations(range: { startTime?: string | Date; endTime?: string | Date } = {}): Promise<unknown[]> {
    return this.runtime()[0]!.getViolations(range)
  }
}

/** True for Constraint instances, including ones from another copy of the module (hot reload, workers). */
export function isConstraint(value: unknown): value is Constraint {
  return typeof value === 'object' && value !== null && 'spec' in value && typeof (value as Constraint).bind === 'function'
}
