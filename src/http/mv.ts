/**
 * The materialized-view admin API (contract seeds/003 "HTTP API"):
 *
 * | Method and path | scope | Answer |
 * |---|---|---|
 * | `GET /api/mv` | read | 200 `{ views: [{ name, origin, source_table, target_table, refresh_mode, status, progress_percent, state, cluster_name }] }` |
 * | `POST /api/mv` | admin | 201 `{ job }` (the documented request shape); 400 bad definition; 409 name or table taken |
 * | `GET /api/mv/:name` | read | 200 `{ job (with progress_percent), status, refresh_log, next_refresh, metadata, statistics }`; 404 |
 * | `POST /api/mv/:name/backfill` | admin | 202 `{ job }`; 409 when running or completed |
 * | `POST /api/mv/:name/refresh[?full=true]` | admin | 200 `{ view, kind, rows, duration_ms, status, job }` (202 for a streaming rebuild); 409 when one is running |
 * | `POST /api/mv/:name/query` | read | 200 `{ rows, sql, params }`; 400 QueryError |
 * | `DELETE /api/mv/:name` | admin | 200 `{ status: 'deleted', dropped }`; 409 for a view a loaded module declares |
 *
 * Errors answer `{ error, code }` through the one error handler (src/http/errors.ts):
 * VIEW_NOT_FOUND 404, QUERY_REJECTED and CONFIG_INVALID 400, VIEW_CONFLICT and conflicting
 * REFRESH_FAILED 409, READONLY_VIOLATION 403, 503 when ClickHouse is unreachable, others 500.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { definitionFromRequest } from '../views/definition.ts'
import type { ViewManager } from '../views/manager.ts'
import { errorAnswer } from './errors.ts'
import { AnyObject, EmptyBody, errorBody, errorResponses, Open, ViewParams } from './schemas.ts'

/** HTTP status of an error raised by the view stage (the one mapping of src/http/errors.ts). */
export function statusOf(error: unknown): number {
  return errorAnswer(error).status
}

const Str = (description?: string) => Type.String({ minLength: 1, ...(description ? { description } : {}) })
const Names = Type.Union([Type.String(), Type.Array(Type.String())])

/** The body of POST /api/mv (checked further by the model rules, src/views/definition.ts). */
const CreateView = Type.Object(
  {
    name: Str('view name'),
    source_table: Str('table the view reads'),
    target_table: Type.Optional(Str('target table (default <name>_data)')),
    distributed_table: Type.Optional(Str('Distributed table of a clustered view (default <name>_dist)')),
    engine: Type.Optional(Type.String({ description: 'MergeTree | SummingMergeTree | AggregatingMergeTree | ReplacingMergeTree' })),
    order_by: Type.Optional({ ...Names, description: 'ORDER BY columns of the target' }),
    columns: Type.Optional(Type.Array(Type.Object({ name: Str(), type: Str() }, { additionalProperties: false }), { description: 'target columns (inferred when absent)' })),
    select_query: Type.Optional(Str('SELECT reading {source_table}')),
    cluster: Type.Optional(Type.Unsafe<string | null>({ type: 'string', nullable: true, description: "cluster name, 'auto', or null" })),
    refresh: Type.Optional(
      Type.Object(
        {
          mode: Type.Optional(Type.Union([Type.Literal('streaming'), Type.Literal('scheduled'), Type.Literal('manual')])),
          schedule: Type.Optional(Type.String({ description: 'cron expression of a scheduled view' })),
          timezone: Type.Optional(Type.String()),
          strategy: Type.Optional(Type.Union([Type.Literal('replace'), Type.Literal('append')])),
          grace_period: Type.Optional(Type.Union([Type.String(), Type.Number({ minimum: 0 })], { description: "seconds, or a duration such as '15m'" })),
        },
        { additionalProperties: false },
      ),
    ),
    watermark: Type.Optional(Str('backfill cutoff column')),
    backfill: Type.Optional(Type.Boolean()),
    batch_rows: Type.Optional(Type.Integer({ minimum: 1 })),
    filter: Type.Optional(Type.String({ description: 'declarative view: predicate over source columns' })),
    group_by: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Record(Type.String(), Type.String())]), { description: "declarative view: column names or { alias: 'expression' }" })),
    compute: Type.Optional(Type.Record(Type.String(), AnyObject, { description: "declarative view: { column: { count: '*' } | { avg: 'delay' } | { first: 'delay', by: 'date' } }" })),
  },
  { additionalProperties: false },
)

/** The body of POST /api/mv/:name/query (src/views/query/builder.ts). */
const ViewQuery = Type.Object(
  {
    select: Type.Optional(Names),
    filter: Type.Optional(Type.Union([Type.String(), AnyObject])),
    group_by: Type.Optional(Names),
    having: Type.Optional(Type.String()),
    order_by: Type.Optional(Names),
    limit: Type.Optional(Type.Integer({ description: 'rows, from 1 to the largest limit (QUERY_REJECTED outside)' })),
    offset: Type.Optional(Type.Integer({ description: 'rows skipped, 0 or more' })),
  },
  // Unknown fields and out-of-range limits are refused by the query builder itself (QUERY_REJECTED, 400).
  { additionalProperties: true },
)

const NotFound = errorBody('no such view')
const Conflict = errorBody('conflicts with the state of the view')
const Job = Open({ job: AnyObject })

/** Registers the `/api/mv` routes on the daemon's Fastify app. */
export function registerViewRoutes(app: FastifyInstance, views: ViewManager): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>()
  const guarded = errorResponses('guarded')
  const withBody = errorResponses('body')

  r.get('/api/mv', { config: { scope: 'read' }, schema: { summary: 'list views with their job status and freshness', response: { 200: Open({ views: Type.Array(AnyObject) }), ...guarded } } }, async () => ({ views: (await views.list()) as object[] }))

  r.post('/api/mv', { config: { scope: 'admin' }, schema: { summary: 'create a view (backfilled unless backfill is false)', body: CreateView, response: { 201: Job, 409: Conflict, ...withBody } } }, async (req, reply) =>
    reply.code(201).send({ job: (await views.create(definitionFromRequest(req.body, views.database))) as object }),
  )

  r.get('/api/mv/:name', { config: { scope: 'read' }, schema: { summary: 'job, freshness, refresh log, metadata and statistics of a view', params: ViewParams, response: { 200: AnyObject, 404: NotFound, ...guarded } } }, async (req) => (await views.describe(req.params.name)) as object)

  r.post('/api/mv/:name/backfill', { config: { scope: 'admin' }, schema: { summary: 'start or resume the backfill of a view', params: ViewParams, body: EmptyBody, response: { 202: Job, 404: NotFound, 409: Conflict, ...withBody } } }, async (req, reply) =>
    reply.code(202).send({ job: (await views.backfill(req.params.name)) as object }),
  )

  r.post(
    '/api/mv/:name/refresh',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'refresh a view now (full=true: rebuild)',
        params: ViewParams,
        querystring: Type.Object({ full: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false }),
        body: EmptyBody,
        response: { 200: AnyObject, 202: AnyObject, 404: NotFound, 409: Conflict, ...withBody },
      },
    },
    async (req, reply) => {
      const full = req.query.full === true
      const streaming = views.job(req.params.name).definition.refresh.mode === 'streaming'
      const result = (await views.refresh(req.params.name, { full })) as object
      return reply.code(streaming && full ? 202 : 200).send(result)
    },
  )

  r.post('/api/mv/:name/query', { config: { scope: 'read' }, schema: { summary: 'query a view: values bound as parameters, identifiers checked against its columns', params: ViewParams, body: ViewQuery, response: { 200: Open({ rows: Type.Array(AnyObject) }), 404: NotFound, ...withBody } } }, async (req) =>
    (await views.query(req.params.name, req.body)) as { rows: object[] },
  )

  r.delete('/api/mv/:name', { config: { scope: 'admin' }, schema: { summary: 'drop a view: MV, target, Distributed table and job record', params: ViewParams, response: { 200: Open({ status: Type.Literal('deleted') }), 404: NotFound, 409: errorBody('a view a loaded module declares: take it out of the module first'), ...guarded } } }, async (req) => ({
    status: 'deleted' as const,
    ...((await views.drop(req.params.name, { caller: 'api' })) as object),
  }))
}
