import assert from 'node:assert/strict'
import { test } from 'node:test'
import { IngestPipeline, Key, t } from '../../../src/index.ts'
import { buildServer, type HttpDeps } from '../../../src/http/server.ts'
import { metrics } from '../../../src/metrics/metrics.ts'
import type { RecordProducer } from '../../../src/kafka/producer.ts'

const count = async (pipeline: string, code: string): Promise<number> =>
  (await metrics.ingestRequests.get()).values.find((v) => v.labels.pipeline === pipeline && v.labels.code === code)?.value ?? 0

test('every ingest answer is counted by code, including invalid-JSON 400 and 413 from the body parser', async () => {
  const pipeline = new IngestPipeline('unit_ingest_counts', { schema: t.Object({ id: Key(t.String()), n: t.Number() }) })
  const sent: string[][] = []
  const producer = { send: async (_topic: string, messages: Array<{ value: string }>) => void sent.push(messages.map((m) => m.value)) } as unknown as RecordProducer
  const deps = { pipeline: (name: string) => (name === pipeline.name ? pipeline : undefined), producer, recordsPerMessage: 100, ingestMaxBytes: 200, ch: {} as HttpDeps['ch'], ready: async () => ({}), describe: () => ({}) } as HttpDeps
  const app = buildServer(deps)
  const post = (url: string, payload: string) => app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload })
  assert.equal((await post('/ingest/unit_ingest_counts', '[{"id":"a","n":1}]')).statusCode, 200)
  assert.equal((await post('/ingest/unit_ingest_counts', '[{"id":"a",')).statusCode, 400)
  assert.equal((await post('/ingest/unit_ingest_counts', '[{"id":"a","n":"x"}]')).statusCode, 400)
  assert.equal((await post('/ingest/unit_ingest_counts', JSON.stringify([{ id: 'a', n: 1, pad: 'x'.repeat(300) }]))).statusCode, 413)
  assert.equal((await post('/ingest/nope', '[]')).statusCode, 404)
  assert.equal(await count('unit_ingest_counts', '200'), 1)
  assert.equal(await count('unit_ingest_counts', '400'), 2)
  assert.equal(await count('unit_ingest_counts', '413'), 1)
  assert.equal(await count('unknown', '404'), 1)
  assert.equal(sent.length, 1)
  await app.close()
})
