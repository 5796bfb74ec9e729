/**
 * The one error mapping of the HTTP port. Every answer that is not a success is
 * `{ error: <message>, code: <flowhouse error code> }` (some add fields: `errors`, `retryAfterMs`).
 *
 * | source | status |
 * |---|---|
 * | FlowhouseError (src/errors.ts) | STATUS_OF_CODE below; CLICKHOUSE_ERROR is 503 when retriable, 400 when ClickHouse refused the statement, 500 otherwise; REFRESH_FAILED is 409 for a conflict, 503 when retriable |
 * | Fastify request errors (schema validation, JSON syntax, body limit, media type) | their 4xx status, code BAD_REQUEST, PAYLOAD_TOO_LARGE or UNSUPPORTED_MEDIA_TYPE |
 * | errors of @clickhouse/client or chdb that reach a route unwrapped | as CLICKHOUSE_ERROR (src/clickhouse/errors.ts parses them) |
 * | anything else | 500 INTERNAL |
 *
 * Every 5xx is logged with its cause (pino `err`) and counted in flowhouse_http_server_errors_total.
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import { toClickHouseError } from '../clickhouse/errors.ts'
import { ClickHouseError, FlowhouseError, messageOf, type ErrorCode } from '../errors.ts'
import { metrics } from '../metrics/metrics.ts'
import { redactSecrets, stageLog } from '../util/log.ts'

const logger = stageLog('http')

/** HTTP status of each flowhouse error code (a new code must be added here: the type demands it). */
export const STATUS_OF_CODE: Readonly<Record<ErrorCode, number>> = {
  CONFIG_INVALID: 400,
  DECODE_FAILED: 400,
  VALIDATION_FAILED: 400,
  CLICKHOUSE_ERROR: 400,
  KAFKA_ERROR: 503,
  NOT_FOUND: 404,
  BAD_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  READONLY_VIOLATION: 403,
  RATE_LIMIT_EXCEEDED: 429,
  CONSTRAINT_VALIDATION_FAILED: 400,
  RESOURCE_LIMIT_EXCEEDED: 429,
  CONSTRAINT_NOT_FOUND: 404,
  VIEW_NOT_FOUND: 404,
  VIEW_CONFLICT: 409,
  QUERY_REJECTED: 400,
  REFRESH_FAILED: 500,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  HOST_NOT_ALLOWED: 421,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  QUERY_QUEUE_FULL: 503,
  FAILPOINT: 503,
}

/** The answer to an error: status, code and message. */
export interface ErrorAnswer {
  status: number
  code: ErrorCode
  message: string
}

function fastifyCode(status: number): ErrorCode {
  if (status === 413) return 'PAYLOAD_TOO_LARGE'
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE'
  if (status === 404) return 'NOT_FOUND'
  return 'BAD_REQUEST'
}

function looksLikeClickHouse(error: unknown): boolean {
  const e = error as { code?: unknown; type?: unknown; clickhouseCode?: unknown; message?: unknown }
  return typeof e?.clickhouseCode === 'number' || (typeof e?.code === 'string' && /^\d+$/.test(e.code) && typeof e.type === 'string') || /^Code: \d+\. DB::Exception/.test(String(e?.message ?? ''))
}

/**
 * Maps anything thrown while answering a request to its answer. Never throws.
 * @param bodyLimit the ingest body limit in bytes, named in 413 messages.
 */
export function errorAnswer(error: unknown, bodyLimit?: number): ErrorAnswer {
  if (!(error instanceof FlowhouseError) && looksLikeClickHouse(error)) return errorAnswer(toClickHouseError(error), bodyLimit)
  if (error instanceof FlowhouseError) {
    let status = STATUS_OF_CODE[error.code] ?? 500
    if (error instanceof ClickHouseError || error.code === 'CLICKHOUSE_ERROR') {
      status = error.retriable ? 503 : (error as ClickHouseError).chCode !== undefined ? 400 : 500
    } else if (error.code === 'REFRESH_FAILED') {
      status = error.context.conflict ? 409 : error.retriable ? 503 : 500
    }
    return { status, code: error.code, message: error.message }
  }
  const fe = error as Partial<FastifyError>
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = fastifyCode(fe.statusCode)
    const message = code === 'PAYLOAD_TOO_LARGE' && bodyLimit !== undefined ? `body is larger than the limit of ${bodyLimit} bytes (FLOWHOUSE_INGEST_MAX_BYTES)` : messageOf(error)
    return { status: fe.statusCode, code, message }
  }
  return { status: 500, code: 'INTERNAL', message: messageOf(error) }
}

function routeOf(req: FastifyRequest): string {
  return req.is404 ? 'unknown' : (req.routeOptions.url ?? 'unknown')
}

/** Counts and logs a 5xx answer with its cause. */
export function recordServerError(req: FastifyRequest, answer: ErrorAnswer, error: unknown): void {
  metrics.httpServerErrors.inc({ method: req.method, route: routeOf(req), status: String(answer.status), code: answer.code })
  logger.error({ err: error, method: req.method, route: routeOf(req), status: answer.status, code: answer.code, requestId: req.id }, 'request failed')
}

/** Installs the error handler and the not-found handler on `app`. */
export function registerErrorHandler(app: FastifyInstance, options: { bodyLimit: number }): void {
  app.setErrorHandler((error, req, reply) => {
    const answer = errorAnswer(error, options.bodyLimit)
    if (answer.status >= 500) recordServerError(req, answer, error)
    const extra = error instanceof FlowhouseError && typeof error.context.retryAfterMs === 'number' ? { retryAfterMs: Math.ceil(error.context.retryAfterMs) } : {}
    // A message may quote a driver error: registered credentials never reach a caller (src/util/redact.ts).
    return reply.code(answer.status).send({ error: redactSecrets(answer.message), code: answer.code, ...extra })
  })
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}; the routes are listed in GET /openapi.json`, code: 'NOT_FOUND' }))
}
