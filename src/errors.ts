/**
 * The one error module. Every error flowhouse raises on purpose is a FlowhouseError with a
 * string `code`, a `retriable` flag, an optional `cause`, and enumerable context fields so
 * that `JSON.stringify(error)` gives a complete record for logs and the dead-letter queue.
 */

export const ErrorCodes = [
  'CONFIG_INVALID',
  'DECODE_FAILED',
  'VALIDATION_FAILED',
  'CLICKHOUSE_ERROR',
  'KAFKA_ERROR',
  'FAILPOINT',
  'NOT_FOUND',
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'READONLY_VIOLATION',
  'RATE_LIMIT_EXCEEDED',
  'CONSTRAINT_VALIDATION_FAILED',
  'RESOURCE_LIMIT_EXCEEDED',
  'CONSTRAINT_NOT_FOUND',
  'VIEW_NOT_FOUND',
  'VIEW_CONFLICT',
  'QUERY_REJECTED',
  'REFRESH_FAILED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'HOST_NOT_ALLOWED',
  'UNSUPPORTED_MEDIA_TYPE',
  'INTERNAL',
  'QUERY_QUEUE_FULL',
] as const
export type ErrorCode = (typeof ErrorCodes)[number]

/** Context carried by an error; every field is optional and enumerable. */
export interface ErrorContext {
  pipeline?: string
  stream?: string
  topic?: string
  partition?: number
  offset?: string
  table?: string
  field?: string
  rule?: string
  constraint?: string
  [key: string]: unknown
}

export class FlowhouseError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean
  readonly context: ErrorContext

  constructor(code: ErrorCode, message: string, options: { retriable?: boolean; cause?: unknown; context?: ErrorContext } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.retriable = options.retriable ?? false
    this.context = options.context ?? {}
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, retriable: this.retriable, ...this.context }
  }
}

/** A pipeline module breaks a configuration rule. The message names the pipeline, the field and the rule. */
export class ConfigError extends FlowhouseError {
  constructor(message: string, context: ErrorContext = {}) {
    super('CONFIG_INVALID', message, { context })
  }
}

/**
 * A ClickHouse server or engine error, parsed into its numeric `chCode` and `type`
 * (e.g. 252 / TOO_MANY_PARTS). `retriable` is decided by clickhouse/errors.ts.
 */
export class ClickHouseError extends FlowhouseError {
  readonly chCode: number | undefined
  readonly type: string | undefined
  constructor(message: string, options: { chCode?: number; type?: string; retriable: boolean; cause?: unknown; context?: ErrorContext }) {
    super('CLICKHOUSE_ERROR', message, options)
    this.chCode = options.chCode
    this.type = options.type
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), chCode: this.chCode, type: this.type }
  }
}

/** True for programmer errors that must never be retried (kafkajs src/retry rule). */
export function isProgrammerError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError || error instanceof SyntaxError
}

/** Human-readable message of anything thrown. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  return typeof error === 'string' ? error : JSON.stringify(error)
}

/**
 * A record or request exceeds a `rate` constraint. `retryAfterMs` is how long until the
 * limit admits it (the ingest API answers 429 with `Retry-After` in whole seconds).
 */
export class RateLimitExceededError extends FlowhouseError {
  readonly retryAfterMs: number
  constructor(message: string, retryAfterMs: number, context: ErrorContext = {}) {
    super('RATE_LIMIT_EXCEEDED', message, { retriable: true, context: { ...context, retryAfterMs } })
    this.retryAfterMs = retryAfterMs
  }
}

/** A record breaks a rule of a `validation` constraint; context names the field and the rule. */
export class ValidationError extends FlowhouseError {
  constructor(message: string, context: ErrorContext = {}) {
    super('CONSTRAINT_VALIDATION_FAILED', message, { context })
  }
}

/** A record or the daemon exceeds a `resource` constraint (event size, processing time, memory, CPU). */
export class ResourceLimitExceededError extends FlowhouseError {
  constructor(message: string, context: ErrorContext = {}) {
    super('RESOURCE_LIMIT_EXCEEDED', message, { context })
  }
}

/** No materialized view of that name is known to the daemon (API 404). Context: `view`. */
export class ViewNotFoundError extends FlowhouseError {
  constructor(view: string) {
    super('VIEW_NOT_FOUND', `materialized view "${view}" does not exist; list views with GET /api/mv or flowhouse mv list`, { context: { view } })
  }
}

/**
 * A view query was refused before reaching ClickHouse: an identifier that is not a column of the
 * view, a function or operator outside the allowlist, or text that does not parse (injection
 * attempts end here). Context: `view`, `part` (select, filter, group_by, having, order_by, limit), `position`.
 */
export class QueryError extends FlowhouseError {
  constructor(message: string, context: ErrorContext = {}) {
    super('QUERY_REJECTED', message, { context })
  }
}

/**
 * Creating, backfilling or refreshing a view failed, or the request conflicts with the view's
 * state (e.g. a backfill already running). `retriable` when ClickHouse was unreachable.
 */
export class RefreshError extends FlowhouseError {
  constructor(message: string, options: { retriable?: boolean; cause?: unknown; context?: ErrorContext } = {}) {
    super('REFRESH_FAILED', message, options)
  }
}

/**
 * An HTTP request refused before its route ran: no or an unknown API key (`UNAUTHORIZED`, 401),
 * a key of the wrong scope (`FORBIDDEN`, 403), a Host header that is not allowed
 * (`HOST_NOT_ALLOWED`, 421), a body that is not JSON (`UNSUPPORTED_MEDIA_TYPE`, 415), or a
 * malformed request (`BAD_REQUEST`, 400) / unknown resource (`NOT_FOUND`, 404).
 * The status of each code is in src/http/errors.ts.
 */
export class RequestError extends FlowhouseError {
  constructor(code: 'UNAUTHORIZED' | 'FORBIDDEN' | 'HOST_NOT_ALLOWED' | 'UNSUPPORTED_MEDIA_TYPE' | 'BAD_REQUEST' | 'NOT_FOUND', message: string, context: ErrorContext = {}) {
    super(code, message, { context })
  }
}
