/**
 * Dead-letter and stream admin API (the same operations as `flowhouse dlq|peek|reset`).
 *
 * | Method and path | scope | |
 * | GET  /api/dlq/:pipeline?limit=&stage=&since=&filter= | read | newest matching dead letters `{ total, matched, entries }` |
 * | POST /api/dlq/:pipeline/replay | admin | body `{ stage?, since?, filter?, force?, dryRun? }`: re-ingest matching dead letters (src/kafka/dlq-replay.ts) |
 * | GET  /api/streams/:stream/peek?limit= | read | newest messages of a stream's topic |
 * | POST /api/pipelines/:pipeline/reset | admin | body `{ confirm: "<pipeline>" }`: delete its topics and consumer group; this daemon's own consumer of the pipeline drains and stops first and starts again on the new topics; 409 while another daemon consumes it |
 *
 * `stage` and `filter` take one value or several (repeat the query parameter); `filter` is
 * `field=value` or `field~text`; `since` an ISO-8601 time. Errors answer `{ error, code }`; a Kafka
 * failure is 503 `KAFKA_ERROR`.
 */
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Kafka } from 'kafkajs'
import { FlowhouseError, messageOf } from '../errors.ts'
import { peekDlq, replayDlq } from '../kafka/dlq-replay.ts'
import type { RecordProducer } from '../kafka/producer.ts'
import { peekStream, resetPipeline } from '../kafka/tools.ts'
import { ErrorBody, errorResponses } from './schemas.ts'

export interface DlqRouteDeps {
  kafka: Kafka
  producer: RecordProducer
  /** Consumer group prefix (`<prefix>.<pipeline>`). */
  groupPrefix: string
  /**
   * Runs a reset with this daemon's consumer of the pipeline stopped, then restarts it
   * (pipelines/lifecycle.ts `withPipelineStopped`). @default the reset alone
   */
  pausing?: <T>(pipeline: string, reset: () => Promise<T>) => Promise<T>
}

const Stages = Type.Union([Type.String(), Type.Array(Type.String())])
const Entry = Type.Object(
  {
    pipeline: Type.String(),
    stage: Type.String(),
    errorType: Type.String(),
    reason: Type.String(),
    topic: Type.String(),
    partition: Type.Number(),
    offset: Type.String(),
    time: Type.String(),
    dlqPartition: Type.Number(),
    dlqOffset: Type.String(),
  },
  { additionalProperties: true },
)
const PipelineParams = Type.Object({ pipeline: Type.String({ minLength: 1 }) })
const PeekQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 20 })),
  stage: Type.Optional(Stages),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  filter: Type.Optional(Stages),
})
const ReplayBody = Type.Object(
  {
    stage: Type.Optional(Stages),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    filter: Type.Optional(Stages),
    force: Type.Optional(Type.Boolean()),
    dryRun: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)
const ReplayResult = Type.Object({
  pipeline: Type.String(),
  total: Type.Integer(),
  matched: Type.Integer(),
  replayed: Type.Integer(),
  alreadyReplayed: Type.Integer(),
  notReplayable: Type.Record(Type.String(), Type.Integer()),
})
const Message = Type.Object({ partition: Type.Integer(), offset: Type.String(), timestamp: Type.Number(), key: Type.Union([Type.String(), Type.Null()]), value: Type.String(), headers: Type.Record(Type.String(), Type.String()) })

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v])
const filterOf = (o: { stage?: string | string[]; since?: string; filter?: string | string[] }) => ({ stages: list(o.stage), where: list(o.filter), ...(o.since ? { since: new Date(o.since) } : {}) })

/**
 * Answers a failed call: a reset refused while the pipeline is consumed is a 409; every other
 * error goes to the port's one mapping (errors.ts: NOT_FOUND 404, BAD_REQUEST 400), and a Kafka
 * failure becomes KAFKA_ERROR (503, logged and counted like every 5xx).
 * @throws the error to map, as a FlowhouseError.
 */
function fail(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof FlowhouseError && error.context.conflict) return reply.code(409).send({ error: error.message, code: error.code })
  if (error instanceof FlowhouseError) throw error
  throw new FlowhouseError('KAFKA_ERROR', `Kafka: ${messageOf(error)}`, { retriable: true, cause: error })
}

/** Registers the dead-letter and stream routes. */
export function registerDlqRoutes(app: FastifyInstance, deps: DlqRouteDeps): void {
  app.get<{ Params: Static<typeof PipelineParams>; Querystring: Static<typeof PeekQuery> }>(
    '/api/dlq/:pipeline',
    { config: { scope: 'read' }, schema: { summary: 'newest matching dead letters of a pipeline', params: PipelineParams, querystring: PeekQuery, response: { ...errorResponses('guarded'), 200: Type.Object({ total: Type.Integer(), matched: Type.Integer(), entries: Type.Array(Entry) }), 400: ErrorBody, 404: ErrorBody } } },
    async (req, reply) => {
      try {
        return await peekDlq(deps.kafka, req.params.pipeline, { ...filterOf(req.query), limit: req.query.limit ?? 20 })
      } catch (error) {
        return fail(reply, error)
      }
    },
  )

  app.post<{ Params: Static<typeof PipelineParams>; Body: Static<typeof ReplayBody> }>(
    '/api/dlq/:pipeline/replay',
    { config: { scope: 'admin' }, schema: { summary: 're-ingest matching dead letters through the pipeline', params: PipelineParams, body: ReplayBody, response: { ...errorResponses('body'), 200: ReplayResult, 400: ErrorBody, 404: ErrorBody } } },
    async (req, reply) => {
      const body = req.body ?? {}
      try {
        return await replayDlq(deps.kafka, deps.producer, req.params.pipeline, { ...filterOf(body), force: body.force ?? false, dryRun: body.dryRun ?? false })
      } catch (error) {
        return fail(reply, error)
      }
    },
  )

  const StreamParams = Type.Object({ stream: Type.String({ minLength: 1 }) })
  const StreamQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 10 })) })
  app.get<{ Params: Static<typeof StreamParams>; Querystring: Static<typeof StreamQuery> }>(
    '/api/streams/:stream/peek',
    { config: { scope: 'read' }, schema: { summary: "newest messages of a stream's topic", params: StreamParams, querystring: StreamQuery, response: { ...errorResponses('guarded'), 200: Type.Object({ messages: Type.Array(Message) }), 404: ErrorBody } } },
    async (req, reply) => {
      try {
        return { messages: await peekStream(deps.kafka, req.params.stream, req.query.limit ?? 10) }
      } catch (error) {
        return fail(reply, error)
      }
    },
  )

  const ResetBody = Type.Object({ confirm: Type.String({ description: 'the pipeline name again' }) })
  app.post<{ Params: Static<typeof PipelineParams>; Body: Static<typeof ResetBody> }>(
    '/api/pipelines/:pipeline/reset',
    { config: { scope: 'admin' }, schema: { summary: "delete a pipeline's topics and consumer group", params: PipelineParams, body: ResetBody, response: { ...errorResponses('body'), 200: Type.Object({ pipeline: Type.String(), topics: Type.Array(Type.String()), group: Type.Union([Type.String(), Type.Null()]) }), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody } } },
    async (req, reply) => {
      if (req.body.confirm !== req.params.pipeline) return reply.code(400).send({ error: `body must be { "confirm": "${req.params.pipeline}" }`, code: 'BAD_REQUEST' })
      try {
        const reset = () => resetPipeline(deps.kafka, req.params.pipeline, deps.groupPrefix)
        return await (deps.pausing ? deps.pausing(req.params.pipeline, reset) : reset())
      } catch (error) {
        return fail(reply, error)
      }
    },
  )
}
