/**
 * The Avro schema of a pipeline schema (for `flowhouse replay --format avro`, which registers it
 * and encodes rows with it). Derived from a schema that passed the config checks (typemap.ts):
 *
 * | pipeline schema | Avro |
 * | `t.String()` (any string without an annotation, `t.LowCardinality`) | `string` |
 * | `t.DateTime()` | `long`, logicalType `timestamp-millis` |
 * | `t.Date()` | `int`, logicalType `date` |
 * | `t.Int8/16/32()`, `t.UInt8/16()` | `int` |
 * | `t.UInt32()`, `t.Integer()`, `t.Int64()` | `long` (values within ±(2^53 − 1)) |
 * | `t.UInt64()`, `t.Int128/UInt128/Int256/UInt256()` | `string` (decimal text) |
 * | `t.Number()` / `t.Float32()` | `double` / `float` |
 * | `t.Boolean()` | `boolean` |
 * | a union of string literals | `enum` |
 * | `t.Array(T)` | `array` |
 * | `t.Object({...})` nested | `record` named after the field path |
 * | `t.Optional(T)` / `t.Nullable(T)` | `["null", T]`, default `null` |
 */
import type { TSchema } from '@sinclair/typebox'
import { CLICKHOUSE_KEYWORD } from './annotations.ts'

/** An Avro schema as JSON (a type name, or a complex type). */
export type AvroType = string | AvroRecordSchema | Record<string, unknown> | AvroType[]

/** The top-level record schema; `name` must be an Avro name (letters, digits, _). */
export interface AvroRecordSchema {
  type: 'record'
  name: string
  namespace?: string
  fields: Array<{ name: string; type: AvroType; default?: null }>
}

const INT = new Set(['Int8', 'Int16', 'Int32', 'UInt8', 'UInt16'])
const LONG = new Set(['UInt32', 'Int64'])

/** Avro name of a field path: `a.b` → `a_b`, other characters replaced by `_`. */
function avroName(text: string): string {
  const name = text.replace(/[^A-Za-z0-9_]/g, '_')
  return /^[A-Za-z_]/.test(name) ? name : `_${name}`
}

function nullable(node: TSchema): TSchema | undefined {
  const members = (node.anyOf ?? node.oneOf) as TSchema[] | undefined
  if (!Array.isArray(members) || !members.some((m) => m.type === 'null')) return undefined
  const rest = members.filter((m) => m.type !== 'null')
  return rest.length === 1 ? rest[0] : { ...node, anyOf: rest }
}

function typeOf(node: TSchema, path: string): AvroType {
  const inner = nullable(node)
  if (inner !== undefined) return ['null', typeOf(inner, path)]
  const members = (node.anyOf ?? node.oneOf) as TSchema[] | undefined
  if (Array.isArray(members) && members.every((m) => typeof m.const === 'string')) return { type: 'enum', name: avroName(path), symbols: members.map((m) => m.const as string) }
  if (Array.isArray(node.enum)) return { type: 'enum', name: avroName(path), symbols: node.enum as string[] }
  const annotation = node[CLICKHOUSE_KEYWORD] as string | undefined
  switch (node.type) {
    case 'string':
      if (node.format === 'date-time') return { type: 'long', logicalType: 'timestamp-millis' }
      if (node.format === 'date') return { type: 'int', logicalType: 'date' }
      if (annotation !== undefined && LONG.has(annotation)) return 'long'
      return 'string'
    case 'integer':
      if (annotation !== undefined && INT.has(annotation)) return 'int'
      return 'long'
    case 'number':
      return annotation === 'Float32' ? 'float' : 'double'
    case 'boolean':
      return 'boolean'
    case 'array':
      return { type: 'array', items: typeOf(node.items as TSchema, `${path}_item`) }
    default:
      return recordOf(node, avroName(path))
  }
}

function recordOf(node: TSchema, name: string): AvroRecordSchema {
  const properties = (node.properties ?? {}) as Record<string, TSchema>
  const required = new Set((node.required ?? []) as string[])
  return {
    type: 'record',
    name,
    fields: Object.entries(properties).map(([field, schema]) => {
      let type = typeOf(schema, `${name}_${field}`)
      if (!required.has(field) && !(Array.isArray(type) && type[0] === 'null')) type = ['null', type]
      return Array.isArray(type) && type[0] === 'null' ? { name: field, type, default: null } : { name: field, type }
    }),
  }
}

/**
 * The Avro record schema of `schema` (a `t.Object`), named `name` in `namespace` (see the table
 * above). Field names are kept; only Avro-valid names work with Avro (letters, digits, _).
 */
export function avroSchemaOf(name: string, schema: TSchema, namespace = 'flowhouse'): AvroRecordSchema {
  return { ...recordOf(schema, avroName(name)), namespace }
}
