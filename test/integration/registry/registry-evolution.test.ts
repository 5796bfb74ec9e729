/**
 * Schema evolution of a schema registry pipeline against the real broker, the embedded ClickHouse
 * and the real registry of the project's services (Apicurio): Avro, Protobuf and JSON Schema
 * writer schema versions registered mid-stream, one subject and pipeline per format.
 * - A version that adds two fields: their columns appear in the pipeline table before the first
 *   message carrying them is inserted, marked with the schema id, and the values land in them;
 *   rows written before read NULL / the column default.
 * - A version that removes a required field and retypes another: refused with the destructive-
 *   change message, counted, and its records keep flowing with both fields at the column default.
 * - A restart keeps the added columns (not "no longer declared") and goes on writing into them.
 * The ground truth is the records the test encoded, compared row by row with the table.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import srModule from '@kafkajs/confluent-schema-registry'
import { registryOptions } from '../../../src/transforms/registry.ts'
import { kafka, metricValue, removeDir, sql, startDaemon, tempDir, waitFor, type DaemonProcess, REGISTRY } from '../helpers.ts'

const { COMPATIBILITY, SchemaRegistry, SchemaType } = srModule
const registry = new SchemaRegistry(...registryOptions({ url: REGISTRY }))
const suffix = randomBytes(4).toString('hex')
let daemon: DaemonProcess
let dir: string

/** One writer-schema format: v1 (the pipeline's fields), v2 (adds `channel`, optional text, and `score`, a number), v3 (removes `label`, retypes `amount` as text). */
interface Format {
  key: string
  type: typeof SchemaType.AVRO | typeof SchemaType.PROTOBUF | typeof SchemaType.JSON
  versions: [string, string, string]
  /** How the format names a text field in the retype problem. */
  text: string
}

const avroV1 = { type: 'record', name: 'Order', namespace: 'test.flowhouse', fields: [{ name: 'id', type: 'string' }, { name: 'amount', type: 'int' }, { name: 'label', type: 'string' }] }
const avroAdded = [{ name: 'channel', type: ['null', 'string'], default: null }, { name: 'score', type: 'double', default: 0 }]
const proto = (fields: string) => `syntax = "proto3";\npackage test.flowhouse;\nmessage Order {\n${fields}\n}`
const json = (properties: Record<string, unknown>, required: string[]) => JSON.stringify({ type: 'object', properties, required })
const FORMATS: Format[] = [
  {
    key: 'avro',
    type: SchemaType.AVRO,
    versions: [
      JSON.stringify(avroV1),
      JSON.stringify({ ...avroV1, fields: [...avroV1.fields, ...avroAdded] }),
      JSON.stringify({ ...avroV1, fields: [{ name: 'id', type: 'string' }, { name: 'amount', type: 'string' }, ...avroAdded] }),
    ],
    text: 'Avro string',
  },
  {
    key: 'protobuf',
    type: SchemaType.PROTOBUF,
    versions: [
      proto('  string id = 1;\n  int32 amount = 2;\n  string label = 3;'),
      proto('  string id = 1;\n  int32 amount = 2;\n  string label = 3;\n  optional string channel = 4;\n  double score = 5;'),
      proto('  string id = 1;\n  string amount = 2;\n  optional string channel = 4;\n  double score = 5;'),
    ],
    text: 'Protobuf string',
  },
  {
    key: 'json',
    type: SchemaType.JSON,
    versions: [
      json({ id: { type: 'string' }, amount: { type: 'integer' }, label: { type: 'string' } }, ['id', 'amount', 'label']),
      json({ id: { type: 'string' }, amount: { type: 'integer' }, label: { type: 'string' }, channel: { type: ['string', 'null'] }, score: { type: 'number' } }, ['id', 'amount', 'label', 'score']),
      json({ id: { type: 'string' }, amount: { type: 'string' }, channel: { type: ['string', 'null'] }, score: { type: 'number' } }, ['id', 'amount', 'score']),
    ],
    text: 'JSON Schema string',
  },
]
const nameOf = (format: Format) => `orders_evolving_${format.key}_${suffix}`
const subjectOf = (format: Format) => `${nameOf(format)}-value`
/** Schema ids per format, v1..v3. */
const ids = new Map<string, number[]>()

const start = () => startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data'), env: { FLOWHOUSE_BATCH_FLUSH_MS: '300' } })

before(async () => {
  dir = await tempDir('registry-evolution')
  await mkdir(path.join(dir, 'pipelines'))
  const pipelines = FORMATS.map(
    (format) => `export const ${format.key} = new IngestPipeline('${nameOf(format)}', {
  schema: t.Object({ id: Key(t.String()), amount: t.Int32(), label: t.String() }),
  format: { schemaRegistry: { url: '${REGISTRY}', subject: '${subjectOf(format)}' } },
  unknownFields: 'dead_letter',
})`,
  )
  await writeFile(path.join(dir, 'pipelines', 'orders.ts'), `import { IngestPipeline, Key, t } from 'flowhouse'\n${pipelines.join('\n')}\n`)
  daemon = await start()
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dir) await removeDir(dir)
})

async function send(topic: string, values: Buffer[]): Promise<void> {
  const producer = kafka().producer()
  await producer.connect()
  for (const value of values) await producer.send({ topic, messages: [{ value }], acks: -1 })
  await producer.disconnect()
}

async function rows(name: string, expected: number): Promise<Array<Record<string, unknown>>> {
  return waitFor(async () => {
    const r = await sql<Record<string, unknown>>(daemon.url, `SELECT id, amount, label, channel, score FROM ${name} ORDER BY id`)
    return r.length === expected ? r : undefined
  }, { what: `${expected} rows of ${name}`, timeoutMs: 60_000 }).catch((error: Error) => {
    throw new Error(`${error.message}\n--- daemon output ---\n${daemon.output().slice(-6000)}`)
  })
}

for (const format of FORMATS) {
  test(`${format.key}: an added field gets its column at once; a removed and a retyped field are refused and their records written with defaults`, { timeout: 180_000 }, async () => {
    const name = nameOf(format)
    const subject = subjectOf(format)
    const [v1, v2, v3] = format.versions
    const { id: id1 } = await registry.register({ type: format.type, schema: v1 }, { subject })
    await send(name, [await registry.encode(id1, { id: 'o1', amount: 1, label: 'v1' }), await registry.encode(id1, { id: 'o2', amount: 2, label: 'v1' })])
    await waitFor(async () => (await sql(daemon.url, `SELECT id FROM ${name}`)).length === 2, { what: 'two v1 rows' })

    // Compatibility NONE, so the registry takes v3 (a retyped field) as it would from a careless producer.
    const config = await fetch(`${REGISTRY}/config/${subject}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ compatibility: 'NONE' }) })
    assert.equal(config.status, 200)
    const { id: id2 } = await registry.register({ type: format.type, schema: v2 }, { subject, compatibility: COMPATIBILITY.NONE })
    const { id: id3 } = await registry.register({ type: format.type, schema: v3 }, { subject, compatibility: COMPATIBILITY.NONE })
    ids.set(format.key, [id1, id2, id3])
    await send(name, [
      await registry.encode(id2, { id: 'o3', amount: 3, label: 'v2', channel: 'web', score: 1.5 }),
      await registry.encode(id2, { id: 'o4', amount: 4, label: 'v2', score: 2 }),
      await registry.encode(id3, { id: 'o5', amount: 'five', channel: 'app', score: 3 }),
      await registry.encode(id1, { id: 'o6', amount: 6, label: 'v1 again' }),
    ])
    assert.deepEqual(await rows(name, 6), [
      { id: 'o1', amount: 1, label: 'v1', channel: null, score: 0 },
      { id: 'o2', amount: 2, label: 'v1', channel: null, score: 0 },
      { id: 'o3', amount: 3, label: 'v2', channel: 'web', score: 1.5 },
      { id: 'o4', amount: 4, label: 'v2', channel: null, score: 2 },
      { id: 'o5', amount: 0, label: '', channel: 'app', score: 3 },
      { id: 'o6', amount: 6, label: 'v1 again', channel: null, score: 0 },
    ])
    const columns = await sql<{ name: string; type: string; comment: string }>(daemon.url, `SELECT name, type, comment FROM system.columns WHERE database = currentDatabase() AND table = '${name}' ORDER BY position`)
    const mark = `flowhouse: added for schema registry schema id ${id2} (subject "${subject}")`
    assert.deepEqual(columns, [
      { name: 'id', type: 'String', comment: '' },
      { name: 'amount', type: 'Int32', comment: '' },
      { name: 'label', type: 'String', comment: '' },
      { name: 'channel', type: 'Nullable(String)', comment: mark },
      { name: 'score', type: 'Float64', comment: mark },
    ])
    assert.equal(await metricValue(daemon.url, 'flowhouse_schema_evolution_total', { pipeline: name, outcome: 'column_added' }), 2)
    assert.equal(await metricValue(daemon.url, 'flowhouse_schema_evolution_total', { pipeline: name, outcome: 'refused' }), 2)
    assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: name }), 0)
    assert.equal(await metricValue(daemon.url, 'flowhouse_records_written_total', { pipeline: name }), 6)
    const of3 = `schema id ${id3} (subject "${subject}")`.replace(/"/g, '\\"')
    assert.ok(
      daemon.output().includes(`table \\"${name}\\": refusing a destructive change: column \\"amount\\" is declared as integer but ${of3} retypes it as ${format.text}: stored as its NULL/default; column \\"label\\" is required but ${of3} removed the field: stored as its NULL/default. flowhouse only adds columns`),
      `the refusal is logged with the destructive-change message:\n${daemon.output().slice(-3000)}`,
    )
  })
}

test('a restart keeps the added columns (not "no longer declared") and goes on writing into them', { timeout: 180_000 }, async () => {
  assert.equal(ids.size, FORMATS.length, 'the format tests ran first')
  await daemon.kill('SIGTERM')
  daemon = await start()
  for (const format of FORMATS) {
    const name = nameOf(format)
    await send(name, [await registry.encode(ids.get(format.key)![1]!, { id: 'o7', amount: 7, label: 'after restart', channel: 'api', score: 4 })])
    assert.deepEqual((await rows(name, 7))[6], { id: 'o7', amount: 7, label: 'after restart', channel: 'api', score: 4 })
    assert.equal(await metricValue(daemon.url, 'flowhouse_schema_evolution_total', { pipeline: name, outcome: 'column_added' }), 0, 'the columns exist already')
  }
  assert.equal(await metricValue(daemon.url, 'flowhouse_module_load_errors'), 0)
  assert.ok(!daemon.output().includes('no longer declared'), daemon.output().slice(-3000))
})
