/**
 * `flowhouse schema import <subject>` against the real schema registry of the project's services:
 * the printed module skeleton is the TypeBox schema of the subject's Avro, Protobuf or JSON Schema
 * schema, and it loads as a pipeline schema (the type map accepts it).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { ROOT, removeDir, tempDir, REGISTRY } from '../helpers.ts'

const run = promisify(execFile)

/** Registers `schema` under a fresh subject through the registry's REST API; returns the subject and schema id. */
async function register(schema: string, schemaType?: 'PROTOBUF' | 'JSON'): Promise<{ subject: string; id: number }> {
  const subject = `import_${randomBytes(4).toString('hex')}-value`
  const res = await fetch(`${REGISTRY}/subjects/${subject}/versions`, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schema, ...(schemaType ? { schemaType } : {}) }) })
  assert.equal(res.status, 200, await res.clone().text())
  return { subject, id: ((await res.json()) as { id: number }).id }
}

/** `flowhouse schema import SUBJECT`: the printed skeleton. */
async function importSubject(subject: string): Promise<string> {
  return (await run(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), 'schema', 'import', subject, '--registry', REGISTRY], { cwd: ROOT })).stdout
}

/** `flowhouse check` on `skeleton` plus a pipeline of its type `typeName`: its exit code and output. */
async function check(skeleton: string, typeName: string, subject: string): Promise<{ code: number; output: string }> {
  const dir = await tempDir('schema-import')
  try {
    await writeFile(path.join(dir, 'trips.ts'), `${skeleton}\nimport { IngestPipeline } from 'flowhouse'\nexport const trips = new IngestPipeline('trips', { schema: ${typeName}, format: { schemaRegistry: { url: '${REGISTRY}', subject: '${subject}' } } })\n`)
    const done = await run(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), 'check', '--pipelines', dir], { cwd: ROOT }).then(
      (r) => ({ code: 0, output: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    )
    return done
  } finally {
    await removeDir(dir)
  }
}

const LOADS = /✓ .*trips\.ts: 1 pipelines, 1 streams, 1 tables, 0 views/

test('schema import prints the TypeBox schema of a subject, and the module it prints loads as a pipeline', { timeout: 60_000 }, async () => {
  const avro = {
    type: 'record', name: 'Trip', namespace: 'test', fields: [
      { name: 'trip_id', type: 'string' },
      { name: 'started', type: { type: 'long', logicalType: 'timestamp-micros' } },
      { name: 'day', type: { type: 'int', logicalType: 'date' } },
      { name: 'seats', type: 'int' },
      { name: 'km', type: 'double' },
      { name: 'fare', type: { type: 'bytes', logicalType: 'decimal', precision: 8, scale: 2 } },
      { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['bus', 'rail'] } },
      { name: 'stops', type: { type: 'array', items: 'string' } },
      { name: 'driver', type: ['null', { type: 'record', name: 'Driver', fields: [{ name: 'name', type: 'string' }, { name: 'badge', type: 'long' }] }], default: null },
    ],
  }
  const { subject, id } = await register(JSON.stringify(avro))
  const stdout = await importSubject(subject)
  assert.equal(stdout, `// subject "${subject}" version 1 (schema id ${id})
import { Key, t, type Static } from 'flowhouse'

// Key: the first field; move Key() to the field that identifies a record.
export const Trip = t.Object({
  trip_id: Key(t.String()),
  started: t.DateTime(),
  day: t.Date(),
  seats: t.Int32(),
  km: t.Number(),
  fare: t.String() /* decimal(8, 2) as text */,
  kind: t.Union([t.Literal("bus"), t.Literal("rail")]),
  stops: t.Array(t.String()),
  driver: t.Object({
    name: t.String(),
    badge: t.Int64(),
  }) /* null in Avro: refused here (no Nullable(Tuple)) */,
})
export type Trip = Static<typeof Trip>
`)

  // The skeleton plus a pipeline passes `flowhouse check` (the table has a Key and supported types).
  assert.match((await check(stdout, 'Trip', subject)).output, LOADS)
})

test('schema import prints a Protobuf subject as decoding reads it (first message, well-known Timestamp, a map as t.Unknown), and it loads', { timeout: 60_000 }, async () => {
  const { subject, id } = await register(
    `syntax = "proto3";
package test.trips;
import "google/protobuf/timestamp.proto";
message Trip {
  string trip_id = 1;
  google.protobuf.Timestamp started = 2;
  int32 seats = 3;
  int64 meters = 4;
  double km = 5;
  enum Kind { bus = 0; rail = 1; }
  Kind kind = 6;
  repeated string stops = 7;
  optional string note = 8;
  Driver driver = 9;
  map<string, string> tags = 10;
}
message Driver { string name = 1; uint32 badge = 2; }`,
    'PROTOBUF',
  )
  const printed = await importSubject(subject)
  assert.equal(printed, `// subject "${subject}" version 1 (schema id ${id}), PROTOBUF
import { Key, t, type Static } from 'flowhouse'

// Key: the first field; move Key() to the field that identifies a record.
export const Trip = t.Object({
  trip_id: Key(t.String()),
  started: t.Optional(t.DateTime()),
  seats: t.Int32(),
  meters: t.Int64(),
  km: t.Number(),
  kind: t.Union([t.Literal("bus"), t.Literal("rail")]),
  stops: t.Array(t.String()),
  note: t.Optional(t.String()),
  driver: t.Object({
    name: t.String(),
    badge: t.UInt32(),
  }) /* may be null: refused here (no Nullable(Tuple)) */,
  tags: t.Unknown() /* Protobuf map is a Protobuf map, which no column type stores: replace it */,
})
export type Trip = Static<typeof Trip>
`)
  // The map has no column: check refuses the skeleton, naming the field, until the line is replaced.
  const refused = await check(printed, 'Trip', subject)
  assert.notEqual(refused.code, 0)
  assert.match(refused.output, /tags/)
  const replaced = await check(printed.replace(/^ {2}tags: .*\n/m, ''), 'Trip', subject)
  assert.match(replaced.output, LOADS)
})

test('schema import prints a JSON Schema subject (required and optional properties, formats, enums), and it loads', { timeout: 60_000 }, async () => {
  const schema = {
    title: 'Trip',
    type: 'object',
    required: ['trip_id', 'seats', 'stops', 'route'],
    properties: {
      trip_id: { type: 'string' },
      started: { type: 'string', format: 'date-time' },
      day: { type: 'string', format: 'date' },
      seats: { type: 'integer' },
      km: { type: ['number', 'null'] },
      kind: { enum: ['bus', 'rail'] },
      stops: { type: 'array', items: { type: 'string' } },
      route: { type: 'object', required: ['from'], properties: { from: { type: 'string' }, to: { type: 'string' } } },
    },
  }
  const { subject, id } = await register(JSON.stringify(schema), 'JSON')
  const printed = await importSubject(subject)
  assert.match((await check(printed, 'Trip', subject)).output, LOADS)
  assert.equal(printed, `// subject "${subject}" version 1 (schema id ${id}), JSON
import { Key, t, type Static } from 'flowhouse'

// Key: the first field; move Key() to the field that identifies a record.
export const Trip = t.Object({
  trip_id: Key(t.String()),
  started: t.Optional(t.DateTime()),
  day: t.Optional(t.Date()),
  seats: t.Int64(),
  km: t.Optional(t.Number()),
  kind: t.Optional(t.Union([t.Literal("bus"), t.Literal("rail")])),
  stops: t.Array(t.String()),
  route: t.Object({
    from: t.String(),
    to: t.Optional(t.String()),
  }),
})
export type Trip = Static<typeof Trip>
`)
})
