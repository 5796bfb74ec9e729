/**
 * Constraint admin API.
 *
 * | Method and path | scope | |
 * | GET  /api/constraints | read | every running constraint with its status |
 * | GET  /api/constraints/:pipeline/:name | read | status |
 * | POST /api/constraints/:pipeline/:name/enable, /disable | admin | switch it (persists; all instances within 2 s); body `{}` |
 * | PUT  /api/constraints/:pipeline/:name/config | admin | body `{ config }`: merged into the config, checked as at load time |
 * | GET  /api/constraints/:pipeline/:name/limits, /metrics, /statistics | read | |
 * | GET  /api/constraints/:pipeline/:name/violations?from=&to=&limit= | read | its history |
 * | GET  /api/violations?constraint=&pipeline=&from=&to=&limit= | read | the history, filtered |
 *
 * Errors (src/http/errors.ts): 404 CONSTRAINT_NOT_FOUND, 400 CONFIG_INVALID / BAD_REQUEST.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { ConstraintRegistry, RunningConstraint } from '../constraints/registry.ts'
import { FlowhouseError, RequestError } from '../errors.ts'
import { AnyObject, ConstraintParams, EmptyBody, errorBody, errorResponses, Open } from './schemas.ts'

const NotFound = errorBody('no such constraint')

const Time = Type.String({ minLength: 1, description: 'ISO-8601 time, e.g. 2026-01-31T12:00:00Z' })
const Range = { from: Type.Optional({ ...Time, description: 'inclusive' }), to: Type.Optional({ ...Time, description: 'exclusive' }), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 1_000, description: 'most rows' })) }
const RangeQuery = Type.Object(Range, { additionalProperties: false })
const HistoryQuery = Type.Object({ ...Range, constraint: Type.Optional(Type.String({ minLength: 1 })), pipeline: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false })
const Violations = Open({ violations: Type.Array(AnyObject) })
const Status = Open({}, 'the constraint: pipeline, name, type, enabled, priority, action, config ...')

function read<E extends object>(summary: string, response: object, extra: E = {} as E) {
  return { config: { scope: 'read' as const }, schema: { summary, ...extra, response: { 200: response, 404: NotFound, ...errorResponses('guarded') } } }
}

/** from/to as a caller wrote them, refused with 400 when they are not times. */
function range(q: Static<typeof RangeQuery>) {
  for (const [field, value] of [['from', q.from], ['to', q.to]] as const) {
    if (value !== undefined && Number.isNaN(Date.parse(value))) throw new RequestError('BAD_REQUEST', `${field}=${JSON.stringify(value)} is not a time; use ISO-8601, e.g. 2026-01-31T12:00:00Z`, { field })
  }
  return { ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}), ...(q.limit ? { limit: q.limit } : {}) }
}

export function registerConstraintRoutes(app: FastifyInstance, registry: ConstraintRegistry): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>()
  const find = (p: Static<typeof ConstraintParams>): RunningConstraint => {
    const c = registry.get(p.pipeline, p.name)
    if (!c) throw new FlowhouseError('CONSTRAINT_NOT_FOUND', `no constraint "${p.name}" on pipeline "${p.pipeline}"`, { context: { pipeline: p.pipeline, constraint: p.name } })
    return c
  }

  r.get('/api/constraints', read('every running constraint with its status', Open({ constraints: Type.Array(AnyObject) })), async () => ({ constraints: (await Promise.all(registry.all().map((c) => c.getStatus()))) as object[] }))

  r.get('/api/constraints/:pipeline/:name', read('status of one constraint', Status, { params: ConstraintParams }), async (req) => (await find(req.params).getStatus()) as object)

  for (const action of ['enable', 'disable'] as const) {
    r.post(
      `/api/constraints/:pipeline/:name/${action}`,
      { config: { scope: 'admin' }, schema: { summary: `${action} a constraint (persists; every instance within 2 s)`, params: ConstraintParams, body: EmptyBody, response: { 200: Status, 404: NotFound, ...errorResponses('body') } } },
      async (req) => {
        const c = find(req.params)
        await c[action]()
        return (await c.getStatus()) as object
      },
    )
  }

  r.put(
    '/api/constraints/:pipeline/:name/config',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'merge fields into the config of a constraint (checked as at load time)',
        params: ConstraintParams,
        body: Type.Object({ config: Type.Object({}, { additionalProperties: true, description: 'fields to merge, e.g. { "max_events_per_second": 500 }' }) }, { additionalProperties: false }),
        response: { 200: Status, 404: NotFound, ...errorResponses('body') },
      },
    },
    async (req) => {
      const c = find(req.params)
      await c.updateConfig(req.body.config as never)
      return (await c.getStatus()) as object
    },
  )

  for (const what of ['limits', 'metrics', 'statistics'] as const) {
    const method = ({ limits: 'getLimits', metrics: 'getMetrics', statistics: 'getStatistics' } as const)[what]
    r.get(`/api/constraints/:pipeline/:name/${what}`, read(`${what} of one constraint`, AnyObject, { params: ConstraintParams }), async (req) => (await find(req.params)[method]()) as object)
  }

  r.get('/api/constraints/:pipeline/:name/violations', read('violation history of one constraint', Violations, { params: ConstraintParams, querystring: RangeQuery }), async (req) => {
    find(req.params)
    return { violations: await registry.history.query({ constraint: req.params.name, pipeline: req.params.pipeline, ...range(req.query) }) }
  })

  r.get('/api/violations', read('the violation history, filtered', Violations, { querystring: HistoryQuery }), async (req) => {
    const q = req.query
    return { violations: await registry.history.query({ ...(q.constraint ? { constraint: q.constraint } : {}), ...(q.pipeline ? { pipeline: q.pipeline } : {}), ...range(q) }) }
  })
}
