/**
 * Constraint admin API.
 *
 * | Method and path | |
 * | GET  /api/constraints | every running constraint with its status |
 * | GET  /api/constraints/:pipeline/:name | status |
 * | POST /api/constraints/:pipeline/:name/enable, /disable | switch it (persists; all instances within 2 s) |
 * | PUT  /api/constraints/:pipeline/:name/config | body `{ config }`: merged into the config, checked as at load time |
 * | GET  /api/constraints/:pipeline/:name/limits, /metrics, /statistics | |
 * | GET  /api/constraints/:pipeline/:name/violations?from=&to=&limit= | its history |
 * | GET  /api/violations?constraint=&pipeline=&from=&to=&limit= | the history, filtered |
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { ConstraintRegistry, RunningConstraint } from '../constraints/registry.ts'
import { ConfigError, messageOf } from '../errors.ts'

type Params = { pipeline: string; name: string }
type RangeQuery = { from?: string; to?: string; limit?: string; constraint?: string; pipeline?: string }

export function registerConstraintRoutes(app: FastifyInstance, registry: ConstraintRegistry): void {
  const find = (p: Params, reply: FastifyReply): RunningConstraint | undefined => {
    const c = registry.get(p.pipeline, p.name)
    if (!c) void reply.code(404).send({ error: `no constraint "${p.name}" on pipeline "${p.pipeline}"` })
    return c
  }
  const range = (q: RangeQuery) => ({
    ...(q.from ? { from: q.from } : {}),
    ...(q.to ? { to: q.to } : {}),
    ...(q.limit ? { limit: Number(q.limit) } : {}),
  })

  app.get('/api/constraints', async () => ({ constraints: await Promise.all(registry.all().map((c) => c.getStatus())) }))

  app.get<{ Params: Params }>('/api/constraints/:pipeline/:name', async (req, reply) => find(req.params, reply)?.getStatus())

  for (const action of ['enable', 'disable'] as const) {
    app.post<{ Params: Params }>(`/api/constraints/:pipeline/:name/${action}`, async (req, reply) => {
      const c = find(req.params, reply)
      if (!c) return
      await c[action]()
      return c.getStatus()
    })
  }

  app.put<{ Params: Params; Body: { config?: unknown } }>('/api/constraints/:pipeline/:name/config', async (req, reply) => {
    const c = find(req.params, reply)
    if (!c) return
    const config = req.body?.config
    if (typeof config !== 'object' || config === null || Array.isArray(config)) return reply.code(400).send({ error: 'body must be { "config": { ... } }' })
    try {
      await c.updateConfig(config as never)
    } catch (error) {
      if (error instanceof ConfigError) return reply.code(400).send({ error: error.message })
      throw error
    }
    return c.getStatus()
  })

  for (const what of ['limits', 'metrics', 'statistics'] as const) {
    const method = ({ limits: 'getLimits', metrics: 'getMetrics', statistics: 'getStatistics' } as const)[what]
    app.get<{ Params: Params }>(`/api/constraints/:pipeline/:name/${what}`, async (req, reply) => find(req.params, reply)?.[method]())
  }

  app.get<{ Params: Params; Querystring: RangeQuery }>('/api/constraints/:pipeline/:name/violations', async (req, reply) => {
    if (!find(req.params, reply)) return
    try {
      return { violations: await registry.history.query({ constraint: req.params.name, pipeline: req.params.pipeline, ...range(req.query) }) }
    } catch (error) {
      return reply.code(400).send({ error: messageOf(error) })
    }
  })

  app.get<{ Querystring: RangeQuery }>('/api/violations', async (req, reply) => {
    try {
      const q = req.query
      return { violations: await registry.history.query({ ...(q.constraint ? { constraint: q.constraint } : {}), ...(q.pipeline ? { pipeline: q.pipeline } : {}), ...range(q) }) }
    } catch (error) {
      return reply.code(400).send({ error: messageOf(error) })
    }
  })
}
