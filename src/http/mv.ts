/**
 * The materialized-view admin API (contract seeds/003 "HTTP API"):
 *
 * | Method and path | Answer |
 * |---|---|
 * | `GET /api/mv` | 200 `{ views: [{ name, origin, source_table, target_table, refresh_mode, status, progress_percent, state, cluster_name }] }` |
 * | `POST /api/mv` | 201 `{ job }` (the documented request shape); 400 bad definition; 409 name or table taken |
 * | `GET /api/mv/:name` | 200 `{ job (with progress_percent), status, refresh_log, next_refresh, metadata, statistics }`; 404 |
 * | `POST /api/mv/:name/backfill` | 202 `{ job }`; 409 when running or completed |
 * | `POST /api/mv/:name/refresh[?full=true]` | 200 `{ view, kind, rows, duration_ms, status, job }` (202 for a streaming rebuild); 409 when one is running |
 * | `POST /api/mv/:name/query` | 200 `{ rows, sql, params }`; 400 QueryError |
 * | `DELETE /api/mv/:name` | 200 `{ status: 'deleted', dropped }`; 409 for a view a loaded module declares |
 *
 * Errors answer `{ error, code }`: ViewNotFoundError 404, QueryError and ConfigError 400,
 * VIEW_CONFLICT and conflicting RefreshError 409, READONLY_VIOLATION 403, others 500
 * (503 when ClickHouse is unreachable).
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { FlowhouseError, messageOf } from '../errors.ts'
import { definitionFromRequest, type CreateViewRequest } from '../views/definition.ts'
import type { ViewManager } from '../views/manager.ts'
import type { ViewQueryRequest } from '../views/query/builder.ts'

/** HTTP status of an error raised by the view stage. */
export function statusOf(error: unknown): number {
  if (!(error instanceof FlowhouseError)) return 500
  switch (error.code) {
    case 'VIEW_NOT_FOUND':
      return 404
    case 'QUERY_REJECTED':
    case 'CONFIG_INVALID':
    case 'BAD_REQUEST':
      return 400
    case 'READONLY_VIOLATION':
      return 403
    case 'VIEW_CONFLICT':
      return 409
    case 'QUERY_QUEUE_FULL':
      return 503
    case 'REFRESH_FAILED':
      return error.context.conflict ? 409 : error.retriable ? 503 : 500
    case 'CLICKHOUSE_ERROR':
      return error.retriable ? 503 : 400
    default:
      return 500
  }
}

async function answer(reply: FastifyReply, work: () => Promise<unknown>, ok = 200): Promise<unknown> {
  try {
    const body = await work()
    return reply.code(ok).send(body)
  } catch (error) {
    const code = error instanceof FlowhouseError ? error.code : 'INTERNAL'
    return reply.code(statusOf(error)).send({ error: messageOf(error), code })
  }
}

/** Registers the `/api/mv` routes on the daemon's Fastify app. */
export function registerViewRoutes(app: FastifyInstance, views: ViewManager): void {
  app.get('/api/mv', (_req, reply) => answer(reply, async () => ({ views: await views.list() })))

  app.post<{ Body: CreateViewRequest }>('/api/mv', (req, reply) =>
    answer(reply, async () => ({ job: await views.create(definitionFromRequest(req.body ?? {}, views.database)) }), 201),
  )

  app.get<{ Params: { name: string } }>('/api/mv/:name', (req, reply) => answer(reply, () => views.describe(req.params.name)))

  app.post<{ Params: { name: string } }>('/api/mv/:name/backfill', (req, reply) => answer(reply, async () => ({ job: await views.backfill(req.params.name) }), 202))

  app.post<{ Params: { name: string }; Querystring: { full?: string } }>('/api/mv/:name/refresh', async (req, reply) => {
    const full = req.query.full === 'true' || req.query.full === '1'
    const mode = (() => {
      try {
        return views.job(req.params.name).definition.refresh.mode
      } catch {
        return undefined
      }
    })()
    return answer(reply, () => views.refresh(req.params.name, { full }), mode === 'streaming' && full ? 202 : 200)
  })

  app.post<{ Params: { name: string }; Body: ViewQueryRequest }>('/api/mv/:name/query', (req, reply) => answer(reply, () => views.query(req.params.name, req.body ?? {})))

  app.delete<{ Params: { name: string } }>('/api/mv/:name', (req, reply) => answer(reply, async () => ({ status: 'deleted', ...(await views.drop(req.params.name, { caller: 'api' })) })))
}
