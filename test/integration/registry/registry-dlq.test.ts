/**
 * A schema registry pipeline against the real broker, the embedded ClickHouse and the real
 * Confluent-compatible registry of the project's services (Apicurio, `services.sh up registry`):
 * Avro messages written with @kafkajs/confluent-schema-registry land in the table with their
 * logical types converted; an unknown schema id, corrupt bytes, a wrong magic byte and a record
 * failing the pipeline schema are dead-lettered with exact reasons while their neighbours are
 * written; Avro schema versions with an added optional field, JSON Schema and Protobuf messages
 * share one topic; Protobuf messages holding google.protobuf.Timestamp fields (a well-known
 * import the registry does not store) are written as instants, one outside years 0-9999 is
 * dead-lettered; a registry that answers 503 for 20 s mid-stream (while a new schema version
 * arrives) makes the partition wait, nothing is dead-lettered, and every message is written once
 * it answers again.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import srModule from '@kafkajs/confluent-schema-registry'
import { registryOptions } from '../../../src/transforms/registry.ts'
import { withWellKnownTypes, type ProtoRoot } from '../../../src/transforms/protobuf-types.ts'
import { kafka, metricValue, readTopic, removeDir, sql, startDaemon, tempDir, waitFor, type DaemonProcess, REGISTRY } from '../helpers.ts'

const { SchemaRegistry, SchemaType } = srModule
/** A client with flowhouse's Avro logical types (timestamps and dates from ISO text, decimals from decimal text). */
const client = () => new SchemaRegistry(...registryOptions({ url: REGISTRY }))
const suffix = randomBytes(4).toString('hex')
const name = `payments_${suffix}`
const waiting = `payments_wait_${suffix}`
const mixed = `orders_mixed_${suffix}`
const stamped = `events_stamped_${suffix}`
const subject = `${name}-value`
let daemon: DaemonProcess
let dir: string
let proxy: Server
let proxyDown = false

const AvroPayment = {
  type: 'record',
  name: 'Payment',
  namespace: 'test.flowhouse',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'amount', type: 'int' },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'big', type: 'long' },
    { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 } },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
}

/** A proxy in front of the real registry that answers 503 while `proxyDown` (the registry "down"); the `waiting` pipeline reads through it. */
async function startProxy(): Promise<number> {
  proxy = createServer(async (req, res) => {
    if (proxyDown) {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 50301, message: 'registry down for the test' }))
      return
    }
    const upstream = await fetch(`${REGISTRY}${req.url!.replace(/^\/registry/, '')}`, { method: req.method, headers: { accept: req.headers.accept ?? '*/*' } })
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await upstream.arrayBuffer()))
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  return (proxy.address() as { port: number }).port
}

before(async () => {
  const port = await startProxy()
  dir = await tempDir('registry-dlq')
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(
    path.join(dir, 'pipelines', 'payments.ts'),
    `import { IngestPipeline, Key, t } from 'flowhouse'
const Payment = t.Object({ id: Key(t.String()), amount: t.Int32(), at: t.DateTime(), day: t.Date(), big: t.Int64(), price: t.String(), note: t.String() })
export const payments = new IngestPipeline('${name}', { schema: Payment, format: { schemaRegistry: { url: '${REGISTRY}', subject: '${subject}' } } })
const Order = t.Object({ id: Key(t.String()), amount: t.Int32(), big: t.Int64(), kind: t.Union([t.Literal('a'), t.Literal('b')]), note: t.Optional(t.String()) })
export const mixed = new IngestPipeline('${mixed}', { schema: Order, format: { schemaRegistry: { url: '${REGISTRY}' } } })
export const stamped = new IngestPipeline('${stamped}', { schema: t.Object({ id: Key(t.String()), at: t.DateTime(), seen_at: t.Optional(t.DateTime()) }), format: { schemaRegistry: { url: '${REGISTRY}' } } })
export const waiting = new IngestPipeline('${waiting}', { schema: Payment, format: { schemaRegistry: { url: 'http://127.0.0.1:${port}/registry' } } })
`,
  )
  daemon = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data'), env: { FLOWHOUSE_BATCH_FLUSH_MS: '300' } })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  proxy?.closeAllConnections()
  proxy?.close()
  if (dir) await removeDir(dir)
})

function payment(id: string, note: string | null) {
  return { id, amount: 1250, at: '2024-03-05T06:07:08.123Z', day: '2024-03-05', big: 9_007_199_254_740_000, price: '-12.50', note }
}

test('Avro messages are decoded through the registry; bad ones are dead-lettered with exact reasons and their neighbours written', { timeout: 120_000 }, async () => {
  const registry = client()
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(AvroPayment) }, { subject })
  const good = await registry.encode(id, payment('p1', 'first'))
  const unknownId = 2_000_000_000 + Math.floor(Math.random() * 100_000_000)
  const unknown = Buffer.concat([Buffer.from([0]), Buffer.alloc(4), good.subarray(5)])
  unknown.writeInt32BE(unknownId, 1)
  const corrupt = Buffer.concat([good.subarray(0, 5), Buffer.from([0x02, 0xff, 0xff, 0xff])])
  const messages = [
    good,
    unknown,
    corrupt,
    Buffer.from(JSON.stringify([payment('j1', 'json')])),
    await registry.encode(id, payment('p2', null)),
    await registry.encode(id, payment('p3', 'last')),
  ]
  const producer = kafka().producer()
  await producer.connect()
  for (const value of messages) await producer.send({ topic: name, messages: [{ value }], acks: -1 })
  // A replayed dead letter (what `flowhouse dlq replay` writes: a JSON array, header flowhouse-dlq) is read as JSON.
  const replayed = { ...payment('r1', 'replayed'), big: '9007199254740000', at: '2024-03-05T06:07:08.123Z' }
  await producer.send({ topic: name, messages: [{ value: JSON.stringify([replayed]), headers: { 'flowhouse-dlq': `${name}.dlq:0:4` } }], acks: -1 })
  await producer.disconnect()

  const rows = await waitFor(async () => {
    const r = await sql<Record<string, unknown>>(daemon.url, `SELECT id, amount, toString(at) AS at, toString(day) AS day, toString(big) AS big, price, note FROM ${name} ORDER BY id`)
    return r.length === 3 ? r : undefined
  }, { what: 'three rows written' })
  assert.deepEqual(rows, [
    { id: 'p1', amount: 1250, at: '2024-03-05 06:07:08.123', day: '2024-03-05', big: '9007199254740000', price: '-12.50', note: 'first' },
    { id: 'p3', amount: 1250, at: '2024-03-05 06:07:08.123', day: '2024-03-05', big: '9007199254740000', price: '-12.50', note: 'last' },
    { id: 'r1', amount: 1250, at: '2024-03-05 06:07:08.123', day: '2024-03-05', big: '9007199254740000', price: '-12.50', note: 'replayed' },
  ])

  const dlq = (await readTopic(`${name}.dlq`, 4)).map((m) => JSON.parse(m.value) as Record<string, unknown>)
  const entries = dlq.map((e) => [e.offset, e.stage, e.errorType, e.reason]).sort((a, b) => String(a[0]).localeCompare(String(b[0])))
  assert.deepEqual(entries, [
    ['1', 'decode', 'unknown_schema_id', `schema id ${unknownId} (subject "${subject}") is not in the registry (it answered 404: Schema ${unknownId} not found.)`],
    ['2', 'decode', 'invalid_payload', `schema id ${id} (subject "${subject}"): the AVRO payload does not decode: truncated buffer`],
    ['3', 'decode', 'invalid_magic_byte', `message starts with byte 91 (0x5b), not the magic byte 0 of the Confluent wire format (subject "${subject}")`],
    ['4', 'validation', 'schema', 'field "note": got null, expected string'],
  ])
  const byOffset = (offset: string) => dlq.find((e) => e.offset === offset)!
  assert.equal(byOffset('3').raw, JSON.stringify([payment('j1', 'json')]))
  assert.deepEqual(byOffset('4').record, { ...payment('p2', null), big: '9007199254740000' })
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_written_total', { pipeline: name }), 3)
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: name }), 4)
})

test('a registry that answers 503 for 20 s mid-stream makes the partition wait: nothing is dead-lettered and every message is written once it answers', { timeout: 120_000 }, async () => {
  const registry = client()
  const subject = `${waiting}-value`
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(AvroPayment) }, { subject })
  const producer = kafka().producer()
  await producer.connect()
  const rowsNow = async () => Number((await sql<{ n: string }>(daemon.url, `SELECT count() AS n FROM ${waiting}`))[0]!.n)
  try {
    proxyDown = false
    for (let i = 0; i < 3; i++) await producer.send({ topic: waiting, messages: [{ value: await registry.encode(id, payment(`w${i}`, 'v1')) }], acks: -1 })
    await waitFor(async () => (await rowsNow()) === 3, { what: 'three rows while the registry answers' })

    // The registry goes down; a new schema version (id not cached by the daemon yet) arrives.
    proxyDown = true
    const v2 = { ...AvroPayment, fields: [...AvroPayment.fields, { name: 'channel', type: ['null', 'string'], default: null }] }
    const config = await fetch(`${REGISTRY}/config/${subject}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ compatibility: 'BACKWARD' }) })
    assert.equal(config.status, 200)
    const { id: id2 } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v2) }, { subject })
    for (let i = 3; i < 6; i++) await producer.send({ topic: waiting, messages: [{ value: await registry.encode(id2, { ...payment(`w${i}`, 'v2'), channel: 'web' }) }], acks: -1 })
    await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_paused_partitions', { pipeline: waiting })) === 1, { what: 'the partition to wait on the registry' })
    await new Promise((r) => setTimeout(r, 20_000))
    assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: waiting }), 0)
    assert.equal(await rowsNow(), 3)
    assert.equal(await metricValue(daemon.url, 'flowhouse_paused_partitions', { pipeline: waiting }), 1)
  } finally {
    proxyDown = false
    await producer.disconnect()
  }
  await waitFor(async () => (await rowsNow()) === 6, { what: 'six rows after the registry answers' })
  assert.deepEqual((await sql<{ id: string; note: string }>(daemon.url, `SELECT id, note FROM ${waiting} ORDER BY id`)).map((r) => [r.id, r.note]), [
    ['w0', 'v1'], ['w1', 'v1'], ['w2', 'v1'], ['w3', 'v2'], ['w4', 'v2'], ['w5', 'v2'],
  ])
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: waiting }), 0)
  assert.equal(await metricValue(daemon.url, 'flowhouse_paused_partitions', { pipeline: waiting }), 0)
})

test('Avro v1 and v2 (an added optional field), JSON Schema and Protobuf messages on one topic are all decoded and written', { timeout: 120_000 }, async () => {
  const registry = client()
  const subject = `${mixed}-value`
  const v1 = { type: 'record', name: 'Order', namespace: 'test.flowhouse', fields: [
    { name: 'id', type: 'string' }, { name: 'amount', type: 'int' }, { name: 'big', type: 'long' }, { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['a', 'b'] } },
  ] }
  const v2 = { ...v1, fields: [...v1.fields, { name: 'note', type: ['null', 'string'], default: null }] }
  const { id: id1 } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject })
  // Apicurio's default compatibility is NONE: ask for BACKWARD, which an added optional field passes.
  const config = await fetch(`${REGISTRY}/config/${subject}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ compatibility: 'BACKWARD' }) })
  assert.equal(config.status, 200)
  const { id: id2 } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v2) }, { subject })
  assert.notEqual(id1, id2)
  // As producers write them: a format ajv knows only with ajv-formats, and Kafka Connect's annotation keywords.
  const json = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Order',
    type: 'object',
    properties: { id: { type: 'string', 'connect.index': 0 }, amount: { type: 'integer', 'connect.index': 1 }, big: { type: 'string' }, kind: { enum: ['a', 'b'] }, note: { type: 'string', format: 'hostname' } },
    required: ['id', 'amount', 'big', 'kind'],
  }
  const { id: jsonId } = await registry.register({ type: SchemaType.JSON, schema: JSON.stringify(json) }, { subject: `${mixed}-json` })
  const proto = `syntax = "proto3";
package test.flowhouse;
message Order {
  string id = 1;
  int32 amount = 2;
  int64 big = 3;
  enum Kind { a = 0; b = 1; }
  // amount 0 and kind a are proto3 defaults: not written, set again when read.
  Kind kind = 4;
  string note = 5;
}`
  const { id: protoId } = await registry.register({ type: SchemaType.PROTOBUF, schema: proto }, { subject: `${mixed}-proto` })
  const messages = [
    await registry.encode(id1, { id: 'o1', amount: 1, big: 10, kind: 'a' }),
    // A long beyond ±2^53, down to the smallest 64-bit value, is read whole.
    await registry.encode(id2, { id: 'o2', amount: 2, big: '-9223372036854775808', kind: 'b', note: 'added in v2' }),
    await registry.encode(jsonId, { id: 'o3', amount: 3, big: '9223372036854775807', kind: 'a', note: 'json-schema.example' }),
    await registry.encode(protoId, { id: 'o4', amount: 0, big: 4_000_000_000, kind: 0, note: 'protobuf' }),
  ]
  const producer = kafka().producer()
  await producer.connect()
  for (const value of messages) await producer.send({ topic: mixed, messages: [{ value }], acks: -1 })
  await producer.disconnect()
  const rows = await waitFor(async () => {
    const r = await sql<Record<string, unknown>>(daemon.url, `SELECT id, amount, toString(big) AS big, toString(kind) AS kind, note FROM ${mixed} ORDER BY id`)
    return r.length === 4 ? r : undefined
  }, { what: 'four rows written' })
  assert.deepEqual(rows, [
    { id: 'o1', amount: 1, big: '10', kind: 'a', note: null },
    { id: 'o2', amount: 2, big: '-9223372036854775808', kind: 'b', note: 'added in v2' },
    { id: 'o3', amount: 3, big: '9223372036854775807', kind: 'a', note: 'json-schema.example' },
    { id: 'o4', amount: 0, big: '4000000000', kind: 'a', note: 'protobuf' },
  ])
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: mixed }), 0)
})

test('Protobuf messages with google.protobuf.Timestamp fields are written as instants; one outside years 0-9999 is dead-lettered', { timeout: 120_000 }, async () => {
  const registry = client()
  const proto = `syntax = "proto3";
package test.flowhouse;
import "google/protobuf/timestamp.proto";
message Event {
  string id = 1;
  google.protobuf.Timestamp at = 2;
  // snake_case, as the Protobuf style guide names fields: read as declared, not camelCased.
  google.protobuf.Timestamp seen_at = 3;
}`
  const { id } = await registry.register({ type: SchemaType.PROTOBUF, schema: proto }, { subject: `${stamped}-value` })
  // The library's own encoder needs the well-known types too; flowhouse adds them the same way when it decodes.
  await registry.getSchema(id)
  withWellKnownTypes((registry.cache.getSchema(id)!.schema as unknown as { message: { root: ProtoRoot } }).message.root)
  const at = (seconds: number, nanos: number) => ({ seconds, nanos })
  const messages = [
    await registry.encode(id, { id: 'e1', at: at(1_700_000_000, 5_000_000), seen_at: at(1_700_000_001, 0) }),
    await registry.encode(id, { id: 'e2', at: at(-86_400, 123_456_789) }),
    await registry.encode(id, { id: 'e3', at: at(253_402_300_800, 0) }),
    await registry.encode(id, { id: 'e4', at: at(0, 999_000) }),
  ]
  const producer = kafka().producer()
  await producer.connect()
  for (const value of messages) await producer.send({ topic: stamped, messages: [{ value }], acks: -1 })
  await producer.disconnect()
  const rows = await waitFor(async () => {
    const r = await sql<Record<string, unknown>>(daemon.url, `SELECT id, toString(at) AS at, toString(seen_at) AS seen_at FROM ${stamped} ORDER BY id`)
    return r.length === 3 ? r : undefined
  }, { what: 'three rows written' })
  assert.deepEqual(rows, [
    { id: 'e1', at: '2023-11-14 22:13:20.005', seen_at: '2023-11-14 22:13:21.000' },
    // proto3 does not write an unset message field: `seen_at` is absent, hence NULL.
    { id: 'e2', at: '1969-12-31 00:00:00.123', seen_at: null },
    { id: 'e4', at: '1970-01-01 00:00:00.000', seen_at: null },
  ])
  const [dead] = (await readTopic(`${stamped}.dlq`, 1)).map((m) => JSON.parse(m.value) as Record<string, unknown>)
  assert.deepEqual([dead!.offset, dead!.stage, dead!.errorType, dead!.reason], ['2', 'decode', 'invalid_payload', `schema id ${id}: the decoded PROTOBUF value cannot be made JSON: google.protobuf.Timestamp seconds 253402300800 is outside years 0-9999`])
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: stamped }), 1)
})
