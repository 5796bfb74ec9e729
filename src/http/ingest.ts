/**
 * `POST /ingest/<pipeline>`: a JSON array of records, validated against the pipeline's schema
 * (the same compiled ajv validator the consumers use) and produced to the pipeline's topic.
 *
 * | code | when |
 * | 200 | every record was accepted: `{ pipeline, accepted }` |
 * | 400 | body not a JSON array, nested deeper than FLOWHOUSE_MAX_DEPTH or with a record over FLOWHOUSE_MAX_RECORD_BYTES (`code` names the bound), or some record invalid: nothing is produced; `{ error, code?, errors: [{ index, field, reason }] }` |
 * | 404 | unknown pipeline, or its ingest API is off |
 * | 413 | body over FLOWHOUSE_INGEST_MAX_BYTES, or more records for one key than a rate constraint's bucket holds (it could never be admitted: no Retry-After) |
 * | 429 | a rate constraint refuses the request now; `Retry-After` (seconds) says when it would be admitted |
 *
 * Every answer, including body-parser errors (413) and refusals of the access rules, is counted
 * in `flowhouse_ingest_requests_total{pipeline, code}` (pipeline `unknown` for an unknown name).
 *
 * The body is read as bytes and checked by a linear scan before it is parsed, then parsed and
 * validated a slice of records at a time, yielding to the event loop (ingest-body.ts).
 */
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { recordChecker } from '../model/schema.ts'
import type { IngestPipelineLike } from '../model/types.ts'
import { metrics } from '../metrics/metrics.ts'
import type { RecordProducer } from '../kafka/producer.ts'
import { rateKey } from '../constraints/checkers/rate.ts'
import type { ConstraintRegistry } from '../constraints/registry.ts'
import { FlowhouseError, RateLimitExceededError } from '../errors.ts'
import type { DecodeLimits } from '../transforms/bounds.ts'
import { ErrorBody, errorResponses, Open } from './schemas.ts'
import { RECORDS_PER_SLICE, readIngestBody } from './ingest-body.ts'
import { yieldToLoop } from '../util/yield.ts'

const RecordError = Type.Object({ index: Type.Integer(), field: Type.String(), reason: Type.String() })
/** Route schema; the body is checked by the route itself (its 400 lists every invalid record). */
const schema = {
  summary: "produce a JSON array of records to a pipeline's topic",
  params: Type.Object({ pipeline: Type.String({ minLength: 1 }) }),
  body: Type.Array(Type.Unknown(), { description: 'the records, each checked against the pipeline schema' }),
  response: {
    ...errorResponses('body'),
    200: Open({ pipeline: Type.String(), accepted: Type.Integer() }),
    400: Type.Intersect([ErrorBody, Open({ errors: Type.Optional(Type.Array(RecordError, { description: 'invalid records (absent when the body is not JSON)' })) })]),
    404: ErrorBody,
    429: Type.Intersect([ErrorBody, Open({ retryAfterMs: Type.Integer() })]),
  },
}

export interface IngestDeps {
  pipeline(name: string): IngestPipelineLike | undefined
  producer: RecordProducer
  recordsPerMessage: number
  /** Most record errors listed in a 400 answer. @default 100 */
  maxErrors?: number
  /** Running constraints: rate limits answer 429 with Retry-After on this path. */
  constraints?: ConstraintRegistry
  /** Depth and record-size bounds (FLOWHOUSE_MAX_DEPTH, FLOWHOUSE_MAX_RECORD_BYTES). @default 64 levels, 1 MiB */
  bounds?: DecodeLimits
}

/**
 * Checks the pipeline's enabled rate constraints for a request (contract: 429 with
 * Retry-After on the ingest path). Records are counted per key in slices that yield; tokens
 * are then taken only when every limit admits every key.
 * @throws FlowhouseError PAYLOAD_TOO_LARGE when a key has more records than the limit's bucket
 *   holds (waiting never helps); RateLimitExceededError naming the constraint and key, with the
 *   wait in ms.
 */
async function admit(registry: ConstraintRegistry, pipeline: string, records: unknown[], requestId: string): Promise<void> {
  const rates = registry.enabled(pipeline).filter((r) => r.ingestRate)
  if (rates.length === 0) return
  const plans: Array<{ r: (typeof rates)[number]; counts: Map<string, number> }> = []
  for (const r of rates) {
    const counts = new Map<string, number>()
    for (let i = 0; i < records.length; i++) {
      if (i > 0 && i % RECORDS_PER_SLICE === 0) await yieldToLoop()
      const key = rateKey(records[i] as Record<string, unknown>, r.ingestRate!.config.group_by)
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    plans.push({ r, counts })
  }
  // Every limit must admit every key before any token is taken.
  for (const { r, counts } of plans) {
    for (const [key, count] of counts) {
      r.checked(count)
      const burst = r.ingestRate!.burst
      if (count > burst) {
        r.violated('rejected', { source: `request:${requestId}`, key, count, details: `constraint "${r.name}": ${count} records for key "${key}" is more than the bucket of ${burst}; answered 413` })
        const size = r.ingestRate!.config.max_events_per_second !== undefined ? 'max_events_per_second' : 'max_events_per_minute'
        throw new FlowhouseError('PAYLOAD_TOO_LARGE', `rate limit "${r.name}" admits at most ${burst} records at once for key "${key}" (its bucket size, ${size}); this request has ${count}, so retrying it can never succeed: send at most ${burst} records per request`, { context: { pipeline, constraint: r.name, bucketSize: burst } })
      }
      const waitMs = await r.ingestRate!.waitMs(key, count)
      if (waitMs > 0) {
        r.violated('rejected', { source: `request:${requestId}`, key, count, details: `constraint "${r.name}": ${count} records for key "${key}" over the rate limit; answered 429` })
        throw new RateLimitExceededError(`rate limit "${r.name}" exceeded for key "${key}"`, waitMs, { pipeline, constraint: r.name })
      }
    }
  }
  // Another request (or, with shared buckets, another daemon) may have taken the tokens since.
  for (const { r, counts } of plans) {
    for (const [key, count] of counts) {
      if (await r.ingestRate!.tryTake(key, count)) continue
      r.violated('rejected', { source: `request:${requestId}`, key, count, details: `constraint "${r.name}": ${count} records for key "${key}" over the rate limit; answered 429` })
      throw new RateLimitExceededError(`rate limit "${r.name}" exceeded for key "${key}"`, await r.ingestRate!.waitMs(key, count), { pipeline, constraint: r.name })
    }
  }
}

export function registerIngest(app: FastifyInstance, deps: IngestDeps): void {
  const bounds = deps.bounds ?? { maxDepth: 64, maxRecordBytes: 1024 * 1024 }
  const onResponse = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const name = (req.params as { pipeline?: string }).pipeline ?? ''
    metrics.ingestRequests.inc({ pipeline: deps.pipeline(name) ? name : 'unknown', code: String(reply.statusCode) })
  }
  // The ingest route reads its JSON body as bytes (checked before parsing); other routes keep Fastify's parser.
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json')
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
    ingestRoute(scope, deps, bounds, onResponse)
  })
}

function ingestRoute(app: FastifyInstance, deps: IngestDeps, bounds: DecodeLimits, onResponse: (req: FastifyRequest, reply: FastifyReply) => Promise<void>): void {
  app.post<{ Params: { pipeline: string } }>('/ingest/:pipeline', { config: { scope: 'ingest' }, schema, attachValidation: true, onResponse }, async (req, reply) => {
    const name = req.params.pipeline
    const pipeline = deps.pipeline(name)
    const answer = (code: number, body: unknown) => reply.code(code).send(body)
    if (!pipeline || !pipeline.ingestApi) return answer(404, { error: `unknown pipeline "${name}" (or its ingest API is off)`, code: 'NOT_FOUND' })
    const read = await readIngestBody(req.body as Buffer, bounds)
    if (!read.ok) return answer(400, { error: read.error, code: read.code, errors: [] })
    const body = read.records
    const check = recordChecker(pipeline.schema, pipeline.stream.unknownFields)
    const errors: Array<{ index: number; field: string; reason: string }> = []
    const maxErrors = deps.maxErrors ?? 100
    let invalid = 0
    for (let index = 0; index < body.length; index++) {
      if (index > 0 && index % RECORDS_PER_SLICE === 0) await yieldToLoop()
      const checked = check(body[index])
      if (checked.outcome !== 'invalid') continue
      invalid++
      for (const e of checked.errors) if (errors.length < maxErrors) errors.push({ index, field: e.field, reason: e.reason })
    }
    if (invalid > 0) return answer(400, { error: `${invalid} of ${body.length} records are invalid; nothing was accepted`, code: 'VALIDATION_FAILED', errors })
    if (deps.constraints) {
      try {
        await admit(deps.constraints, name, body, req.id)
      } catch (error) {
        if (error instanceof FlowhouseError && error.code === 'PAYLOAD_TOO_LARGE') return answer(413, { error: error.message, code: error.code, bucketSize: error.context.bucketSize })
        if (!(error instanceof RateLimitExceededError)) throw error
        void reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))))
        return answer(429, { error: error.message, code: error.code, retryAfterMs: Math.ceil(error.retryAfterMs) })
      }
    }
    // Messages carry the records' text as received (validated above), not a re-serialisation.
    const messages: Array<{ value: string }> = []
    for (let i = 0; i < body.length; i += deps.recordsPerMessage) messages.push({ value: `[${read.text(i, Math.min(body.length, i + deps.recordsPerMessage))}]` })
    await deps.producer.send(pipeline.stream.name, messages)
    metrics.ingestRecords.inc({ pipeline: name }, body.length)
    return answer(200, { pipeline: name, accepted: body.length })
  })
}
