import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, test } from 'node:test'
import { columnsOf } from '../../../src/model/typemap.ts'
import { t } from '../../../src/model/schema.ts'
import { withWellKnownTypes, type ProtoRoot } from '../../../src/transforms/protobuf-types.ts'
import { jsonSchemaFields, protobufFields, type ProtoMessage, type WriterFields } from '../../../src/transforms/writer-fields.ts'

const protobuf = createRequire(createRequire(import.meta.url).resolve('@kafkajs/confluent-schema-registry'))('protobufjs') as {
  parse(text: string): { root: ProtoRoot & { lookupType(name: string): ProtoMessage } }
}

/** name → [column type or the unsupported reason, decoded JSON types, label]. */
function summary(fields: WriterFields) {
  return Object.fromEntries(
    (fields ?? []).map((f) => {
      let column: string
      if ('unsupported' in f.type) column = `unsupported: ${f.type.unsupported}`
      else {
        try {
          column = columnsOf(t.Object({ [f.name]: f.type }), { kind: 'table', name: 'x' })[0]!.type
        } catch (error) {
          column = `no column: ${(error as Error).message.slice(0, 60)}`
        }
      }
      return [f.name, [column, [...f.decoded].join(','), f.label]]
    }),
  )
}

describe('protobufFields', () => {
  test('maps scalars, enums, repeated, optional, Timestamp and nested messages as the table says', () => {
    const { root } = protobuf.parse(`syntax = "proto3";
package p;
import "google/protobuf/timestamp.proto";
message Inner { string a = 1; }
message E {
  string s = 1; bytes b = 2; int32 i = 3; uint32 u = 4; int64 l = 5; fixed64 ul = 6; double d = 7; float f = 8; bool ok = 9;
  enum Kind { A = 0; B = 1; }
  Kind kind = 10;
  repeated int32 xs = 11;
  optional string maybe = 12;
  google.protobuf.Timestamp at = 13;
  Inner inner = 14;
  map<string, int32> attrs = 15;
  repeated Inner items = 16;
}`)
    withWellKnownTypes(root)
    const fields = summary(protobufFields(root.lookupType('p.E')))
    assert.deepEqual(fields, {
      s: ['String', 'string', 'Protobuf string'],
      b: ['String', 'string', 'Protobuf bytes'],
      i: ['Int32', 'integer', 'Protobuf int32'],
      u: ['UInt32', 'integer', 'Protobuf uint32'],
      l: ['Int64', 'integer', 'Protobuf int64'],
      ul: ['UInt64', 'integer', 'Protobuf fixed64'],
      d: ['Float64', 'number', 'Protobuf double'],
      f: ['Float32', 'number', 'Protobuf float'],
      ok: ['Bool', 'boolean', 'Protobuf bool'],
      kind: ["Enum8('A' = 1, 'B' = 2)", 'string', 'Protobuf Kind'],
      xs: ['Array(Int32)', 'array', 'Protobuf repeated int32'],
      maybe: ['Nullable(String)', 'string', 'Protobuf string'],
      at: ["Nullable(DateTime64(3, 'UTC'))", 'string', 'Protobuf google.protobuf.Timestamp'],
      inner: [fields.inner![0], 'object', 'Protobuf Inner'],
      attrs: ['unsupported: is a Protobuf map, which no column type stores', 'object', 'Protobuf map'],
      items: ['Array(Tuple(a String))', 'array', 'Protobuf repeated Inner'],
    })
    assert.match(String(fields.inner![0]), /^no column: /, 'an unset message reads null, and ClickHouse has no Nullable(Tuple)')
  })

  test('a field of a type the schema does not define is unsupported, not a crash', () => {
    const { root } = protobuf.parse('syntax = "proto3";\npackage q;\nmessage E { string id = 1; other.Missing m = 2; }')
    const fields = summary(protobufFields(root.lookupType('q.E')))
    assert.equal(fields.m![0], 'unsupported: has Protobuf type other.Missing, which the schema does not define')
  })
})

describe('jsonSchemaFields', () => {
  test('maps types, formats, enums, nullability and required as the table says', () => {
    const fields = summary(
      jsonSchemaFields({
        type: 'object',
        required: ['id', 'n', 'tags', 'nested'],
        properties: {
          id: { type: 'string' },
          n: { type: 'integer' },
          x: { type: 'number' },
          ok: { type: 'boolean' },
          at: { type: 'string', format: 'date-time' },
          day: { type: 'string', format: 'date' },
          kind: { enum: ['a', 'b'] },
          note: { type: ['string', 'null'] },
          tags: { type: 'array', items: { type: 'string' } },
          nested: { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] },
          free: { type: 'object' },
          either: { type: ['string', 'integer'] },
          ref: { $ref: '#/definitions/x' },
        },
      }),
    )
    assert.deepEqual(fields, {
      id: ['String', 'string', 'JSON Schema string'],
      n: ['Int64', 'integer', 'JSON Schema integer'],
      x: ['Nullable(Float64)', 'number', 'JSON Schema number'],
      ok: ['Nullable(Bool)', 'boolean', 'JSON Schema boolean'],
      at: ["Nullable(DateTime64(3, 'UTC'))", 'string', 'JSON Schema string'],
      day: ['Nullable(Date32)', 'string', 'JSON Schema string'],
      kind: ["Nullable(Enum8('a' = 1, 'b' = 2))", 'string', 'JSON Schema string'],
      note: ['Nullable(String)', 'string', 'JSON Schema string'],
      tags: ['Array(String)', 'array', 'JSON Schema array'],
      nested: ['Tuple(a Int64)', 'object', 'JSON Schema object'],
      free: ['unsupported: is a JSON Schema object without properties, which no column type stores', 'object', 'JSON Schema object'],
      either: ['unsupported: may be any of string, integer (one type and null are stored)', 'string,integer', 'JSON Schema string or integer'],
      ref: ['unsupported: uses $ref, anyOf or oneOf, which flowhouse does not map to a column', '', 'JSON Schema of any type'],
    })
  })

  test('a schema whose top level is not an object with properties has no fields', () => {
    assert.equal(jsonSchemaFields({ type: 'array', items: { type: 'string' } }), undefined)
    assert.equal(jsonSchemaFields(null), undefined)
  })
})
