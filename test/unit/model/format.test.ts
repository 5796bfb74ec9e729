import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { checkDefinitions } from '../../../src/model/check.ts'
import { IngestPipeline } from '../../../src/model/pipeline.ts'
import { Key, t } from '../../../src/model/schema.ts'
import type { IngestPipelineLike, ModuleDefinitions } from '../../../src/model/types.ts'

const Flight = t.Object({ id: Key(t.String()), delay: t.Int32() })
const URL = 'http://127.0.0.1:8081/apis/ccompat/v7'
const TLS_FIX = 'pass tls: { ca?: PEM text, cert?: PEM text, key?: PEM text, rejectUnauthorized?: boolean } (read the files with readFileSync)'
const FIX = "pass format: { schemaRegistry: { url: 'http://host:8081', auth?: { username, password }, subject?: 'name' } }"

function build(format: unknown, extra: Record<string, unknown> = {}) {
  return new IngestPipeline('flights', { schema: Flight, format: format as 'JSON_ARRAY', ...extra })
}

describe('pipeline format', () => {
  test('a schema registry format is kept as given and turns the ingest API off by default', () => {
    const format = { schemaRegistry: { url: URL, auth: { username: 'u', password: 'p' }, subject: 'flights-value' } }
    assert.deepEqual(build({ schemaRegistry: { url: 'https://r:8081', tls: { ca: 'PEM', cert: 'C', key: 'K', rejectUnauthorized: true } } }).format, { schemaRegistry: { url: 'https://r:8081', tls: { ca: 'PEM', cert: 'C', key: 'K', rejectUnauthorized: true } } })
    const pipeline = build(format)
    assert.deepEqual(pipeline.format, format)
    assert.equal(pipeline.ingestApi, false)
    assert.equal(build({ schemaRegistry: { url: URL } }, { ingestApi: false }).ingestApi, false)
  })

  test('a string other than JSON_ARRAY keeps the JSON_ARRAY message', () => {
    for (const [value, got] of [['CSV', '"CSV"'], [3, '3'], [null, 'null']] as const) {
      assert.throws(() => build(value), {
        message: `pipeline "flights": option "format": must be "JSON_ARRAY" (got ${got}); send each message as one JSON array of records and set format: 'JSON_ARRAY', or leave format out`,
      })
    }
  })

  test('bad registry objects name what is wrong and how to fix it', () => {
    const cases: Array<[unknown, string]> = [
      [{}, `must be "JSON_ARRAY" or { schemaRegistry: { ... } } (got an object with no keys); ${FIX}`],
      [{ avro: true }, `must be "JSON_ARRAY" or { schemaRegistry: { ... } } (got an object with keys "avro"); ${FIX}`],
      [{ schemaRegistry: 'http://x' }, `schemaRegistry must be an object (got "http://x"); ${FIX}`],
      [{ schemaRegistry: {} }, "schemaRegistry.url must be an http:// or https:// URL (got undefined); set url to the registry's Confluent REST API, e.g. 'http://127.0.0.1:8081'"],
      [{ schemaRegistry: { url: 'ftp://x' } }, "schemaRegistry.url must be an http:// or https:// URL (got \"ftp://x\"); set url to the registry's Confluent REST API, e.g. 'http://127.0.0.1:8081'"],
      [{ schemaRegistry: { url: URL, host: 'x' } }, 'schemaRegistry has unknown option "host"; use only url, auth, subject and tls'],
      [{ schemaRegistry: { url: URL, auth: { username: 'u' } } }, 'schemaRegistry.auth must be { username: string, password: string }; pass both as strings (read them from the environment), or leave auth out'],
      [{ schemaRegistry: { url: URL, subject: '' } }, "schemaRegistry.subject must be a non-empty string (got \"\"); name the subject the topic's schemas are registered under, or leave subject out"],
      [{ schemaRegistry: { url: 'https://r', tls: 'x' } }, `schemaRegistry.tls must be an object (got "x"); ${TLS_FIX}`],
      [{ schemaRegistry: { url: 'https://r', tls: { ca: 3 } } }, `schemaRegistry.tls.ca must be PEM text (got 3); ${TLS_FIX}`],
      [{ schemaRegistry: { url: 'https://r', tls: { rejectUnauthorized: 'no' } } }, `schemaRegistry.tls.rejectUnauthorized must be true or false (got "no"); ${TLS_FIX}`],
      [{ schemaRegistry: { url: 'https://r', tls: { pfx: 'x' } } }, `schemaRegistry.tls.pfx is not a TLS option; ${TLS_FIX}`],
      [{ schemaRegistry: { url: 'https://r', tls: { cert: 'x' } } }, `schemaRegistry.tls needs both cert and key, or neither; ${TLS_FIX}`],
      [{ schemaRegistry: { url: URL, tls: { ca: 'x' } } }, `schemaRegistry.tls needs an https:// url (got "${URL}"); use the https:// URL of the registry, or leave tls out`],
    ]
    for (const [format, problem] of cases) {
      assert.throws(() => build(format), { name: 'ConfigError', message: `pipeline "flights": option "format": ${problem}` }, JSON.stringify(format))
    }
  })

  test('a registry pipeline with ingestApi: true is refused', () => {
    assert.throws(() => build({ schemaRegistry: { url: URL } }, { ingestApi: true }), {
      message: 'pipeline "flights": option "ingestApi": a schema registry pipeline has no ingest API (POST /ingest sends JSON arrays; this topic carries Confluent wire-format messages); remove ingestApi: true, or use format JSON_ARRAY',
    })
  })

  test('checkDefinitions applies the same rules to a plain pipeline object', () => {
    const pipeline = build({ schemaRegistry: { url: URL } })
    const defs: ModuleDefinitions = { pipelines: [pipeline], streams: [pipeline.stream], tables: [pipeline.table!], views: [] } as unknown as ModuleDefinitions
    checkDefinitions(defs)
    const broken = { ...pipeline, kind: 'pipeline', stream: pipeline.stream, format: { schemaRegistry: { url: 'nope' } } } as unknown as IngestPipelineLike
    assert.throws(() => checkDefinitions({ ...defs, pipelines: [broken] }), {
      message: "pipeline \"flights\": option \"format\": schemaRegistry.url must be an http:// or https:// URL (got \"nope\"); set url to the registry's Confluent REST API, e.g. 'http://127.0.0.1:8081'",
    })
  })
})
