/** Shapes of constraints (contract: seeds "Constraint": rate, validation and resource types). */

export type ConstraintType = 'rate' | 'validation' | 'resource'
/** What happens to a record that violates the constraint. */
export type ConstraintAction = 'throttle' | 'dead_letter' | 'drop'

export interface RateConfig {
  /** Events per second, per `group_by` key when given. */
  max_events_per_second?: number
  /** Events per minute, per `group_by` key when given. */
  max_events_per_minute?: number
  /** Record fields whose values form the key; each key has its own limit. */
  group_by?: string[]
}

export interface FieldRule {
  /** The field must be present (not undefined or null). */
  required?: boolean
  /** The (string) value must match this regular expression. */
  pattern?: string
  /** The value must be one of these. */
  enum?: Array<string | number | boolean>
  /** `iso8601`: an ISO-8601 date or date-time string. */
  format?: 'iso8601'
  /** Smallest allowed number. */
  min?: number
  /** Largest allowed number. */
  max?: number
  /** Largest size of the field, in bytes of its JSON serialisation. */
  max_size?: number
}

export interface ValidationConfig {
  rules: Record<string, FieldRule>
}

export interface ResourceConfig {
  /** Pause consumption while the daemon's resident memory is above this many MiB. */
  max_memory_mb?: number
  /** A record whose JSON is larger than this many KiB is a violation. */
  max_memory_per_event_kb?: number
  /** Throttle consumption while the daemon's CPU use over a sliding window is above this percent of the machine. */
  max_cpu_percent?: number
  /** A record whose transforms take longer than this many ms is a violation (dead-lettered). */
  max_processing_time_ms?: number
}

export type ConstraintConfig = RateConfig | ValidationConfig | ResourceConfig

/** What every constraint declares besides its type and config, fully defaulted. */
interface SpecCommon {
  name: string
  /** @default true */
  enabled: boolean
  /** Higher runs first. @default 0 */
  priority: number
  /** @default 'throttle' for rate and resource, 'dead_letter' for validation */
  action: ConstraintAction
}

/** A rate constraint: events per second and per minute, optionally per `group_by` key. */
export interface RateSpec extends SpecCommon {
  type: 'rate'
  config: RateConfig
}

/** A validation constraint: rules per field, compiled to JSON Schema for ajv. */
export interface ValidationSpec extends SpecCommon {
  type: 'validation'
  config: ValidationConfig
}

/** A resource constraint: daemon memory and CPU, per-event size, processing time. */
export interface ResourceSpec extends SpecCommon {
  type: 'resource'
  config: ResourceConfig
}

/** A constraint as declared, fully defaulted; `type` tells which config it carries. */
export type ConstraintSpec = RateSpec | ValidationSpec | ResourceSpec

/** The config shape of one constraint type, e.g. `ConfigOf<'rate'>` is RateConfig. */
export type ConfigOf<T extends ConstraintType> = Extract<ConstraintSpec, { type: T }>['config']

/** A type and its checked config, together (what the load-time checks return). */
export type TypedConfig = { [T in ConstraintType]: { type: T; config: ConfigOf<T> } }[ConstraintType]

/** What a transform worker needs of one constraint; `version` changes with every run-time update. */
export type ConstraintSnapshot = ConstraintSpec & { version: number }

/**
 * A record's (or the daemon's) violation of one constraint, as a checker finds it; the worker
 * path turns it into a dead-letter or drop, the on-demand path into a thrown error.
 */
export interface Finding {
  /** The violation's message, starting `constraint "<name>": ` (the same text on every path). */
  reason: string
  /** The rule broken: a validation rule name (required, pattern ...) or a resource option (max_memory_per_event_kb ...). */
  rule: string
  /** The field of a validation rule (a dotted path for nested fields). */
  field?: string
}

/** A constraint violation found while processing a message. */
export interface ViolationItem {
  constraint: string
  type: ConstraintType
  /** What was done to the record. */
  action: ConstraintAction
  /** Index of the record in the message. */
  index: number
  /** The record's Key field value ('' when it has none). */
  key: string
  field?: string
  rule?: string
  reason: string
  record?: unknown
}

/** Constraint outcomes of one message. */
export interface ConstraintResult {
  /** Records evaluated, per constraint name. */
  checks: Record<string, number>
  /** Violations decided in the worker (the record is removed). */
  violations: ViolationItem[]
  /** Records counted against each throttling rate limit, per constraint, per key. */
  throttle: Record<string, Record<string, number>>
  /**
   * Records that reach a rate limit whose action removes them: the consumer checks the rates in
   * order; if one refuses, that violation applies, otherwise `terminal` (a later violation) does,
   * otherwise the record stays.
   */
  deferred: Array<{ index: number; rates: Array<{ constraint: string; key: string }>; /** The record and its Key value. */ record: unknown; key: string; terminal?: ViolationItem; /** Destinations whose transform filtered it (counted in `filtered` and `filteredBy`). */ filteredBy?: string[] }>
}
