/**
 * `POST /ingest/<pipeline>`: a JSON array of records, validated against the pipeline's schema
 * (the same compiled ajv validator the consumers use) and produced to the pipeline's topic.
 *
 * | code | when |
 * | 200 | every record was accepted: `{ pipeline, accepted }` |
 * | 400 | body not a JSON array, or some record invalid: nothing is produced; `{ error, errors: [{ index, field, reason }] }` |
 * | 404 | unknown pipeline, or its ingest API is off |
 * | 413 | body over FLOWHOUSE_INGEST_MAX_BYTES |
 */
import type { FastifyInstance } from 'fastify'
import { compileValidator } from '../model/schema.ts'
import type { IngestPipelineLike } from '../model/types.ts'
import { metrics } from '../metrics/metrics.ts'
import { fieldErrors } from '../util/ajv-errors.ts'
import type { RecordProducer } from '../kafka/producer.ts'

export interface IngestDeps {
  pipeline(name: string): IngestPipelineLike | undefined
  producer: RecordProducer
  recordsPerMessage: number
  /** Most record errors listed in a 400 answer. @default 100 */
  maxErrors?: number
}

export function registerIngest(app: FastifyInstance, deps: IngestDeps): void {
  app.post<{ Params: { pipeline: string } }>('/ingest/:pipeline', async (req, reply) => {
    const name = req.params.pipeline
    const pipeline = deps.pipeline(name)
    const answer = (code: number, body: unknown) => {
      metrics.ingestRequests.inc({ pipeline: pipeline ? name : 'unknown', code: String(code) })
      return reply.code(code).send(body)
    }
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
    await deps.producer.sendRecords(pipeline.stream.name, body.map((r) => JSON.stringify(r)), deps.recordsPerMessage)
    metrics.ingestRecords.inc({ pipeline: name }, body.length)
    return answer(200, { pipeline: name, accepted: body.length })
  })
}
