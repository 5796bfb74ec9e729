/**
 * The JSON Schema and Protobuf schemas of a pipeline schema, for `flowhouse replay --format
 * json-schema|protobuf` (the Avro one is avro.ts). Derived from a schema that passed the config
 * checks (typemap.ts).
 *
 * JSON Schema: the pipeline schema itself without flowhouse's `x-` annotations and `format`
 * (the registry client validates with a plain ajv that knows no formats), so a record valid for
 * the pipeline is valid for it.
 *
 * Protobuf (proto3, one message named after the pipeline, fields numbered in order):
 *
 * | pipeline schema | proto3 |
 * | `t.String()`, `t.DateTime()` / `t.Date()` (ISO text), string enums, `t.UInt64()` and larger | `string` |
 * | `t.Int8/16/32()` / `t.UInt8/16/32()` | `int32` / `uint32` |
 * | `t.Integer()`, `t.Int64()` | `int64` (read back as decimal strings) |
 * | `t.Number()` / `t.Float32()` | `double` / `float` |
 * | `t.Boolean()` | `bool` |
 * | `t.Array(T)` | `repeated T` (arrays of arrays are not supported) |
 * | `t.Object({...})` nested | a nested message |
 * | `t.Optional(T)` / `t.Nullable(T)` | `optional T` (a message field is optional already) |
 */
import type { TSchema } from '@sinclair/typebox'
import { CLICKHOUSE_KEYWORD } from './annotations.ts'

/** The pipeline schema as a plain JSON Schema: `x-*` keys and `format` removed, recursively. */
export function jsonSchemaOf(schema: TSchema): Record<string, unknown> {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip)
    if (typeof node !== 'object' || node === null) return node
    return Object.fromEntries(Object.entries(node).filter(([key]) => !key.startsWith('x-') && key !== 'format').map(([key, value]) => [key, strip(value)]))
  }
  return strip(schema) as Record<string, unknown>
}

const PROTO_SCALAR: Record<string, string> = {
  Int8: 'int32',
  Int16: 'int32',
  Int32: 'int32',
  UInt8: 'uint32',
  UInt16: 'uint32',
  UInt32: 'uint32',
  Int64: 'int64',
  Float32: 'float',
}

function protoName(text: string): string {
  const name = text.replace(/[^A-Za-z0-9_]/g, '_')
  return /^[A-Za-z]/.test(name) ? name : `M${name}`
}

function withoutNull(node: TSchema): { node: TSchema; optional: boolean } {
  const members = (node.anyOf ?? node.oneOf) as TSchema[] | undefined
  if (!Array.isArray(members) || !members.some((m) => m.type === 'null')) return { node, optional: false }
  const rest = members.filter((m) => m.type !== 'null')
  return { node: rest.length === 1 ? rest[0]! : { ...node, anyOf: rest }, optional: true }
}

/** The proto3 type of a non-array node; nested messages are appended to `nested`. */
function protoType(node: TSchema, name: string, nested: string[], indent: string): string {
  const annotation = node[CLICKHOUSE_KEYWORD] as string | undefined
  if (annotation !== undefined && PROTO_SCALAR[annotation] !== undefined) return PROTO_SCALAR[annotation]!
  switch (node.type) {
    case 'integer':
      return 'int64'
    case 'number':
      return 'double'
    case 'boolean':
      return 'bool'
    case 'object':
      nested.push(messageOf(node, name, indent))
      return name
    default:
      return 'string'
  }
}

function messageOf(node: TSchema, name: string, indent: string): string {
  const properties = (node.properties ?? {}) as Record<string, TSchema>
  const required = new Set((node.required ?? []) as string[])
  const nested: string[] = []
  const inner = `${indent}  `
  const fields = Object.entries(properties).map(([field, schema], i) => {
    const { node: bare, optional } = withoutNull(schema)
    if (bare.type === 'array') return `${inner}repeated ${protoType(bare.items as TSchema, protoName(`${field}_item`), nested, inner)} ${field} = ${i + 1};`
    const type = protoType(bare, protoName(`${field}_message`), nested, inner)
    const label = (optional || !required.has(field)) && bare.type !== 'object' ? 'optional ' : ''
    return `${inner}${label}${type} ${field} = ${i + 1};`
  })
  return `${indent}message ${name} {\n${[...nested, ...fields].join('\n')}\n${indent}}`
}

/** The proto3 text of `schema` (see the table above): `package <namespace>;` and one message `name`. */
export function protoSchemaOf(name: string, schema: TSchema, namespace = 'flowhouse'): string {
  return `syntax = "proto3";\npackage ${namespace};\n\n${messageOf(schema, protoName(name), '')}\n`
}
