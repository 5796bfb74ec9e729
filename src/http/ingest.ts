/**
 * `POST /ingest/<pipeline>`: a JSON array of records, validated against the pipeline's schema
 * (the same compiled ajv validator the consumers use) and produced to the pipeline's topic.
 *
 * | code | when |
 * | 200 | every record was accepted: `{ pipeline, accepted }` |
 * | 400 | body not a JSON array, or some record invalid: nothing is produced; `{ error, errors: [{ index, field, reason }] }` |
 * | 404 | unknown pipeline, or its ingest API is off |
 * | 413 | body over FLOWHOUSE_INGEST_MAX_BYTES, or more records for one key than a rate constraint's bucket holds (it could never be admitted: no Retry-After) |
 * | 429 | a rate constraint refuses the request now; `Retry-After` (seconds) says when it would be admitted |
 *
 * Every answer, including body-parser errors (invalid JSON 400, 413), is counted in
 * `flowhouse_ingest_requests_total{pipeline, code}` (pipeline `unknown` for an unknown name).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { compileValidator } from '../model/schema.ts'
import type { IngestPipelineLike } from '../model/types.ts'
import { metrics } from '../metrics/metrics.ts'
import { fieldErrors } from '../util/ajv-errors.ts'
import type { RecordProducer } from '../kafka/producer.ts'
import { rateKey } from '../constraints/evaluate.ts'
import type { ConstraintRegistry } from '../constraints/registry.ts'
import { FlowhouseError, RateLimitExceededError } from '../errors.ts'

export interface IngestDeps {
  pipeline(name: string): IngestPipelineLike | undefined
  producer: RecordProducer
  recordsPerMessage: number
  /** Most record errors listed in a 400 answer. @default 100 */
  maxErrors?: number
  /** Running constraints: rate limits answer 429 with Retry-After on this path. */
  constraints?: ConstraintRegistry
}

/**
 * Checks the pipeline's enabled rate constraints for a request (contract: 429 with
 * Retry-After on the ingest path). Tokens are taken only when every limit admits every key.
 * @throws FlowhouseError PAYLOAD_TOO_LARGE when a key has more records than the limit's bucket
 *   holds (waiting never helps); RateLimitExceededError naming the constraint and key, with the
 *   wait in ms.
 */
async function admit(registry: ConstraintRegistry, pipeline: string, records: unknown[], requestId: string): Promise<void> {
  const rates = registry.enabled(pipeline).filter((r) => r.ingestRate)
  if (rates.length === 0) return
  const plans = rates.map((r) => {
    const counts = new Map<string, number>()
    for (const rec of records) {
      const key = rateKey(rec as Record<string, unknown>, r.ingestRate!.config.group_by)
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    return { r, counts }
  })
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
  const onResponse = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const name = (req.params as { pipeline?: string }).pipeline ?? ''
    metrics.ingestRequests.inc({ pipeline: deps.pipeline(name) ? name : 'unknown', code: String(reply.statusCode) })
  }
  app.post<{ Params: { pipeline: string } }>('/ingest/:pipeline', { onResponse }, async (req, reply) => {
    const name = req.params.pipeline
    const pipeline = deps.pipeline(name)
    const answer = (code: number, body: unknown) => reply.code(code).send(body)
    if (!pipeline || !pipeline.ingestApi) return answer(404, { error: `unknown pipeline "${name}" (or its ingest API is off)` })
    const body = req.body
    if (!Array.isArray(body)) return answer(400, { error: 'body must be a JSON array of records (ingest format JSON_ARRAY)', errors: [] })
    const validate = compileValidator(pipeline.schema)
    const errors: Array<{ index: number; field: string; reason: string }> = []
    const maxErrors = deps.maxErrors ?? 100
    let invalid = 0
    body.forEach((record, index) => {
      if (validate(record)) return
      invalid++
      for (const e of fieldErrors(validate.errors)) if (errors.length < maxErrors) errors.push({ index, field: e.field, reason: e.reason })
    })
    if (invalid > 0) return answer(400, { error: `${invalid} of ${body.length} records are invalid; nothing was accepted`, errors })
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
    await deps.producer.sendRecords(pipeline.stream.name, body.map((r) => JSON.stringify(r)), deps.recordsPerMessage)
    metrics.ingestRecords.inc({ pipeline: name }, body.length)
    return answer(200, { pipeline: name, accepted: body.length })
  })
}
