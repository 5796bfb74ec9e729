/**
 * The daemon's one HTTP port: ingest, health, readiness, metrics and the admin API.
 *
 * Every route declares its scope (src/http/auth.ts) and its body, params, querystring and
 * responses as TypeBox schemas (src/http/schemas.ts). Requests are validated with ajv: query
 * strings and path parameters are coerced to their declared types (`?limit=abc` is a 400),
 * bodies are not coerced. Errors are answered by one handler (src/http/errors.ts).
 * GET /openapi.json serves the OpenAPI 3 document built from the schemas (@fastify/swagger).
 * OPTIONS answers 204 with `Allow` for a known path, and never with CORS headers: browsers
 * on other origins get no permission to call the API.
 */
import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import type { ClickHouse } from '../clickhouse/client.ts'
import { queryReadonly } from '../clickhouse/query.ts'
import type { AccessOptions } from '../config.ts'
import { registry } from '../metrics/metrics.ts'
import { registerAuth } from './auth.ts'
import { registerErrorHandler } from './errors.ts'
import { registerHealth, type HealthOptions } from './health.ts'
import { registerIngest, type IngestDeps } from './ingest.ts'
import { AnyObject, errorResponses, Open } from './schemas.ts'

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
  /** API keys, the /metrics rule, the Host allowlist. @default no keys, /metrics open, loopback Host names only */
  access?: AccessOptions
  /** Liveness: event-loop monitor and its limit (GET /health); a default monitor when absent. */
  health?: HealthOptions
  /** Admin API route groups (materialized views, constraints ...) registered after the core routes. */
  routes?: Array<(app: FastifyInstance) => void>
}

/** A JSON number ClickHouse receives exactly: within ±(2^53 - 1) (larger ones go as strings). */
const SafeNumber = Type.Number({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER })
const Scalar = Type.Union([Type.String(), SafeNumber, Type.Boolean()])
/** A value bound to a `{name:Type}` placeholder: a scalar or an array of scalars. */
const QueryParam = Type.Union([Scalar, Type.Array(Scalar)])

const NO_ACCESS_RULES: AccessOptions = { apiKeys: [], metricsAuth: 'none', allowedHosts: [] }

/** ajv for query strings, params and headers (coerced: they arrive as text) and for bodies (not coerced). */
function validators(): { coerced: Ajv; strict: Ajv } {
  const make = (coerceTypes: boolean) => {
    const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false })
    ;(addFormats as unknown as (a: Ajv) => Ajv)(ajv)
    return ajv
  }
  return { coerced: make(true), strict: make(false) }
}

/** Allowed methods per route pattern, for OPTIONS. Patterns are Fastify paths (`/api/mv/:name`). */
class RouteTable {
  private readonly routes: Array<{ pattern: RegExp; methods: Set<string> }> = []
  add(url: string, methods: string[]): void {
    const pattern = new RegExp(`^${url.split('/').map((s) => (s.startsWith(':') ? '[^/]+' : s === '*' ? '.*' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`)
    this.routes.push({ pattern, methods: new Set(methods) })
  }
  allowed(path: string): string[] {
    const out = new Set<string>()
    for (const r of this.routes) if (r.pattern.test(path)) for (const m of r.methods) out.add(m)
    return [...out]
  }
}

/** Builds the Fastify app (not listening). */
export function buildServer(deps: HttpDeps): FastifyInstance {
  const access = deps.access ?? NO_ACCESS_RULES
  const app = Fastify({
    logger: false,
    bodyLimit: deps.ingestMaxBytes,
    // Malformed URLs and path parameters over 100 characters are refused by the router itself, before any hook.
    frameworkErrors: (error, _req, reply) => void (reply as FastifyReply).code(error.statusCode ?? 400).send({ error: error.message, code: 'BAD_REQUEST' }),
  })
  const { coerced, strict } = validators()
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coerced).compile(schema))
  // Bodies are JSON only (text/plain is what browsers may post cross-site without a preflight).
  app.removeContentTypeParser('text/plain')
  registerErrorHandler(app, { bodyLimit: deps.ingestMaxBytes })
  registerAuth(app, access)

  const table = new RouteTable()
  app.addHook('onRoute', (route) => {
    if (route.method === 'OPTIONS' || route.url === '*') return
    table.add(route.url, ([] as string[]).concat(route.method))
  })

  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'flowhouse', description: 'Stream-processing daemon: ingest, admin API, health and metrics on one port.', version: '0.1.0' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key: `flowhouse keys create --scope <ingest|read|admin>`' } } },
      security: [{ apiKey: [] }],
    },
  })

  void app.register(async (scope) => {
    const r = scope.withTypeProvider<TypeBoxTypeProvider>()
    registerIngest(scope, deps)
    registerHealth(scope, deps.health)

    r.get(
      '/ready',
      {
        config: { scope: 'open' },
        schema: {
          summary: 'readiness: every check passes',
          security: [],
          response: {
            ...errorResponses('open'),
            200: Open({ ready: Type.Boolean(), checks: Type.Record(Type.String(), AnyObject) }),
            503: Open({ ready: Type.Boolean(), checks: Type.Record(Type.String(), AnyObject) }),
          },
        },
      },
      async (_req, reply) => {
        const checks = await deps.ready()
        const ready = Object.values(checks).every((c) => c.ok)
        return reply.code(ready ? 200 : 503).send({ ready, checks })
      },
    )

    r.get(
      '/metrics',
      {
        config: { scope: 'open' },
        schema: {
          summary: 'Prometheus metrics (docs/metrics.md); behind a read key when FLOWHOUSE_METRICS_AUTH=read',
          ...(access.metricsAuth === 'read' ? {} : { security: [] }),
          produces: ['text/plain'],
          response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: Type.String() } } }, ...errorResponses(access.metricsAuth === 'read' ? 'guarded' : 'open') },
        },
      },
      async (_req, reply) => {
        const text = await registry.metrics()
        return reply.header('content-type', registry.contentType).send(text)
      },
    )

    r.get(
      '/api/pipelines',
      {
        config: { scope: 'read' },
        schema: { summary: 'loaded pipelines and modules (with load errors)', response: { 200: Open({ pipelines: Type.Array(AnyObject), modules: Type.Array(AnyObject) }), ...errorResponses('guarded') } },
      },
      async () => deps.describe() as never,
    )

    r.post(
      '/api/sql',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'run one read-only query',
          body: Type.Object(
            { query: Type.String({ minLength: 1, description: 'one SELECT / SHOW / DESCRIBE / EXPLAIN' }), params: Type.Optional(Type.Record(Type.String(), QueryParam, { description: 'values of `{name:Type}` placeholders' })) },
            { additionalProperties: false },
          ),
          response: { 200: Open({ rows: Type.Array(AnyObject) }), ...errorResponses('body') },
        },
      },
      async (req) => ({ rows: await queryReadonly(deps.ch, req.body.query, req.body.params) }),
    )

    for (const register of deps.routes ?? []) register(scope)

    r.get('/openapi.json', { config: { scope: 'read' }, schema: { hide: true } }, async () => scope.swagger())
  })

  app.options('*', { config: { scope: 'open' }, schema: { hide: true } }, async (req, reply) => {
    const methods = table.allowed(req.url.split('?')[0]!)
    if (methods.length === 0) return reply.code(404).send({ error: `no route at ${req.url.split('?')[0]}`, code: 'NOT_FOUND' })
    if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD')
    return reply.code(204).header('allow', [...methods, 'OPTIONS'].join(', ')).send()
  })

  return app
}
