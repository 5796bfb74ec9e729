/**
 * The daemon's one HTTP port: ingest, health, readiness, metrics and the admin API.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { ClickHouse } from '../clickhouse/client.ts'
import { queryReadonly } from '../clickhouse/query.ts'
import { FlowhouseError, messageOf } from '../errors.ts'
import { registry } from '../metrics/metrics.ts'
import { registerHealth, type HealthOptions } from './health.ts'
import { registerIngest, type IngestDeps } from './ingest.ts'

export interface ReadyCheck {
  ok: boolean
  detail?: unknown
}

export interface HttpDeps extends IngestDeps {
  ch: ClickHouse
  /** Readiness checks by name; never throws. */
  ready(): Promise<Record<string, ReadyCheck>>
  /** Pipelines and modules for GET /api/pipelines. */
  describe(): unknown
  ingestMaxBytes: number
  /** Liveness: event-loop monitor and its limit (GET /health); a default monitor when absent. */
  health?: HealthOptions
  /** Admin API route groups (materialized views, constraints ...) registered after the core routes. */
  routes?: Array<(app: FastifyInstance) => void>
}

/** Builds the Fastify app (not listening). */
export function buildServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: deps.ingestMaxBytes })

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _req, reply) => {
    const status = error.statusCode ?? 500
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: `body is larger than the ingest limit of ${deps.ingestMaxBytes} bytes (FLOWHOUSE_INGEST_MAX_BYTES)` })
    }
    if (status < 500) return reply.code(status).send({ error: error.message })
    return reply.code(500).send({ error: error.message })
  })

  registerIngest(app, deps)

  registerHealth(app, deps.health)

  app.get('/ready', async (_req, reply) => {
    const checks = await deps.ready()
    const ready = Object.values(checks).every((c) => c.ok)
    return reply.code(ready ? 200 : 503).send({ ready, checks })
  })

  app.get('/metrics', async (_req, reply) => {
    const text = await registry.metrics()
    return reply.header('content-type', registry.contentType).send(text)
  })

  app.get('/api/pipelines', async () => deps.describe())

  app.post<{ Body: { query?: unknown; params?: Record<string, unknown> } }>('/api/sql', async (req, reply) => {
    const query = req.body?.query
    if (typeof query !== 'string' || query.trim() === '') return reply.code(400).send({ error: 'body must be { "query": "<SQL>" }' })
    try {
      const rows = await queryReadonly(deps.ch, query, req.body.params)
      return { rows }
    } catch (error) {
      const busy = error instanceof FlowhouseError && error.code === 'QUERY_QUEUE_FULL'
      return reply.code(busy ? 503 : 400).send({ error: messageOf(error), ...(error instanceof FlowhouseError ? { code: error.code } : {}) })
    }
  })

  for (const register of deps.routes ?? []) register(app)

  return app
}
