import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { timestampText, withWellKnownTypes, type ProtoRoot } from '../../../src/transforms/protobuf-types.ts'
import { toPlain } from '../../../src/transforms/normalize.ts'

const protobuf = createRequire(createRequire(import.meta.url).resolve('@kafkajs/confluent-schema-registry'))('protobufjs') as {
  parse(text: string): { root: ProtoRoot & { lookupType(name: string): { encode(m: unknown): { finish(): Uint8Array }; create(o: unknown): unknown; decode(b: Uint8Array): unknown } } }
}

describe('timestampText', () => {
  it('keeps the digits the value has: ms, µs or ns', () => {
    assert.equal(timestampText(1_700_000_000, 0), '2023-11-14T22:13:20.000Z')
    assert.equal(timestampText('1700000000', 5_000_000), '2023-11-14T22:13:20.005Z')
    assert.equal(timestampText(1_700_000_000, 5_000), '2023-11-14T22:13:20.000005Z')
    assert.equal(timestampText(-1, 1), '1969-12-31T23:59:59.000000001Z')
    assert.equal(timestampText(undefined, undefined), '1970-01-01T00:00:00.000Z')
  })

  it('refuses instants outside years 0-9999 and nanos out of range', () => {
    assert.throws(() => timestampText(253_402_300_800, 0), /seconds 253402300800 is outside years 0-9999/)
    assert.throws(() => timestampText(-62_167_219_201, 0), /outside years 0-9999/)
    assert.throws(() => timestampText(0, 1_000_000_000), /is not a valid instant/)
    assert.throws(() => timestampText('9223372036854775807', 0), /is not a valid instant/)
  })
})

describe('withWellKnownTypes', () => {
  const schema = `syntax = "proto3";
package p;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
message E { string id = 1; google.protobuf.Timestamp at = 2; google.protobuf.Int32Value n = 3; }`

  it('lets a schema importing google/protobuf files decode, a Timestamp as ISO text', () => {
    const { root } = protobuf.parse(schema)
    withWellKnownTypes(root)
    const type = root.lookupType('p.E')
    const bytes = type.encode(type.create({ id: 'a', at: { seconds: 1_700_000_000, nanos: 5_000_000 }, n: { value: 3 } })).finish()
    assert.deepEqual(toPlain(type.decode(bytes), 32), { id: 'a', at: '2023-11-14T22:13:20.005Z', n: { value: 3 } })
  })

  it('is what makes such a schema decode at all', () => {
    const { root } = protobuf.parse(schema)
    const type = root.lookupType('p.E')
    assert.throws(() => type.decode(new Uint8Array([10, 1, 97])), /no such Type or Enum 'google.protobuf.Timestamp'/)
  })
})
