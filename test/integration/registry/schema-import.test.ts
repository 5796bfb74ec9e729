/**
 * `flowhouse schema import <subject>` against the real schema registry of the project's services:
 * the printed module skeleton is the TypeBox schema of the subject's Avro schema, and it loads as
 * a pipeline schema (the type map accepts it).
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

test('schema import prints the TypeBox schema of a subject, and the module it prints loads as a pipeline', { timeout: 60_000 }, async () => {
  const subject = `import_${randomBytes(4).toString('hex')}-value`
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
  const res = await fetch(`${REGISTRY}/subjects/${subject}/versions`, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schema: JSON.stringify(avro) }) })
  assert.equal(res.status, 200, await res.clone().text())
  const { id } = (await res.json()) as { id: number }
  const { stdout } = await run(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), 'schema', 'import', subject, '--registry', REGISTRY], { cwd: ROOT })
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
  const dir = await tempDir('schema-import')
  try {
    await writeFile(path.join(dir, 'trips.ts'), `${stdout}\nimport { IngestPipeline } from 'flowhouse'\nexport const trips = new IngestPipeline('trips', { schema: Trip, format: { schemaRegistry: { url: '${REGISTRY}', subject: '${subject}' } } })\n`)
    const check = await run(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), 'check', '--pipelines', dir], { cwd: ROOT })
    assert.match(check.stdout, /✓ .*trips\.ts: 1 pipelines, 1 streams, 1 tables, 0 views/)
  } finally {
    await removeDir(dir)
  }
})
