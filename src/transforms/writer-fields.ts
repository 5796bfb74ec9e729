/**
 * The top-level fields of a registry writer schema (Avro record, Protobuf message, JSON Schema
 * object), each with the pipeline type an added field would get and the JSON types its decoded
 * values take (registry.ts, normalize.ts), for schema evolution (evolution.ts).
 *
 * | Avro | Protobuf | JSON Schema | pipeline type | column |
 * | `string`, `bytes`, `fixed` (base64), `decimal` (text), `uuid` | `string`, `bytes` (base64) | `string` | `t.String()` | `String` |
 * | `int` / `long` | `int32`, `sint32`, `sfixed32` / `uint32`, `fixed32` / 64-bit ints (decimal text) | `integer` | `t.Int32()` / `t.UInt32()` / `t.Int64()` (`t.UInt64()`) | `Int32` / `UInt32` / `Int64` (`UInt64`) |
 * | `float` / `double` | `float` / `double` | `number` | `t.Float32()` / `t.Number()` | `Float32` / `Float64` |
 * | `boolean` | `bool` | `boolean` | `t.Boolean()` | `Bool` |
 * | `timestamp-millis`, `timestamp-micros` / `date` | `google.protobuf.Timestamp` | `string` with format `date-time` / `date` | `t.DateTime()` / `t.Date()` | `DateTime64(3, 'UTC')` / `Date32` |
 * | `enum` | `enum` (names) | `enum` of strings | `t.Union([t.Literal(...)])` | `Enum8(...)` |
 * | `array` / `record` | `repeated` / nested message | `array` / `object` with `properties` | `t.Array(T)` / `t.Object({...})` | `Array(T)` / `Tuple(...)` |
 * | `["null", T]` | proto3 `optional`, a message field (unset: null) | not in `required`, or `type: [T, "null"]` | `t.Optional(T)` | `Nullable(T)` |
 *
 * Not mappable (no column type stores it): Avro `map` and unions of several types; Protobuf `map`;
 * JSON Schema objects without `properties`, `$ref`, `anyOf`/`oneOf`, several non-null types; records
 * nested deeper than MAX_NESTING. ClickHouse has no `Nullable(Tuple)` or `Nullable(Array)`, so an
 * optional record or array is refused where the column is made (evolution.ts).
 */
import type { TSchema } from '@sinclair/typebox'
import { t } from '../model/schema.ts'

/** A pipeline type, or the reason a writer type has none (`is a union of int, string (only ["null", T] is stored)`). */
export type Mapped = TSchema | { unsupported: string }

/** One top-level field of a writer schema. */
export interface WriterField {
  name: string
  /** The pipeline type an added field gets (t.Optional when the writer may leave it out or null). */
  type: Mapped
  /** JSON types of its decoded values, null aside (`integer` also for 64-bit integers decoded as decimal text); empty when unknown. */
  decoded: Set<string>
  /** Its type in the writer's terms, for messages: `Avro string`, `Protobuf int64`, `JSON Schema integer`. */
  label: string
}

/** The fields of one writer schema, or undefined when its top level is not a record/message/object. */
export type WriterFields = WriterField[] | undefined

/** Records nest at most this deep in an added field (a recursive record is refused). */
const MAX_NESTING = 16
const tooDeep = { unsupported: `nests deeper than ${MAX_NESTING} levels` }
const optional = (mapped: Mapped): Mapped => ('unsupported' in mapped ? mapped : t.Optional(mapped))

// ---- Avro (avsc Types) ----

/** The part of avsc's Type this module reads (typeName: `record`, `union:unwrapped`, `logical:date` ...). */
export interface AvroType {
  readonly typeName: string
  readonly fields?: ReadonlyArray<{ readonly name: string; readonly type: AvroType }>
  readonly types?: readonly AvroType[]
  readonly itemsType?: AvroType
  readonly symbols?: readonly string[]
  readonly underlyingType?: AvroType
}

const AVRO_PRIMITIVES: Record<string, () => TSchema> = {
  string: () => t.String(),
  bytes: () => t.String(),
  fixed: () => t.String(),
  int: () => t.Int32(),
  long: () => t.Int64(),
  'abstract:long': () => t.Int64(),
  float: () => t.Float32(),
  double: () => t.Number(),
  boolean: () => t.Boolean(),
  'logical:timestamp-millis': () => t.DateTime(),
  'logical:timestamp-micros': () => t.DateTime(),
  'logical:date': () => t.Date(),
  'logical:decimal': () => t.String(),
}

/** The pipeline type of an Avro type (table above), or the reason it has none. */
export function avroToSchema(type: AvroType, depth = 0): Mapped {
  const primitive = AVRO_PRIMITIVES[type.typeName]
  if (primitive) return primitive()
  if (type.typeName.startsWith('logical:') && type.underlyingType) return avroToSchema(type.underlyingType, depth)
  if (depth >= MAX_NESTING) return tooDeep
  switch (type.typeName) {
    case 'enum':
      return t.Union((type.symbols ?? []).map((s) => t.Literal(s)))
    case 'array': {
      const items = avroToSchema(type.itemsType!, depth + 1)
      return 'unsupported' in items ? items : t.Array(items)
    }
    case 'record': {
      const properties: Record<string, TSchema> = {}
      for (const field of type.fields ?? []) {
        const mapped = avroToSchema(field.type, depth + 1)
        if ('unsupported' in mapped) return { unsupported: `field "${field.name}" ${mapped.unsupported}` }
        properties[field.name] = mapped
      }
      return t.Object(properties)
    }
    case 'union:unwrapped':
    case 'union:wrapped': {
      const rest = (type.types ?? []).filter((member) => member.typeName !== 'null')
      if (rest.length !== 1 || rest.length === type.types?.length) return { unsupported: `is a union of ${(type.types ?? []).map(avroName).join(', ')} (only ["null", T] is stored)` }
      return optional(avroToSchema(rest[0]!, depth))
    }
    default:
      return { unsupported: `has Avro type ${type.typeName}, which no column type stores` }
  }
}

/** A short name of an Avro type for messages: `long`, `date`, `[null, string]`. */
function avroName(type: AvroType): string {
  if (type.typeName.startsWith('union:')) return `[${(type.types ?? []).map(avroName).join(', ')}]`
  return type.typeName.replace(/^(logical|abstract):/, '')
}

/** JSON types the values of an Avro type decode to (normalize.ts): an `int` or `long` is an integer, whatever column it maps to. */
function avroDecoded(type: AvroType, out = new Set<string>()): Set<string> {
  const name = type.typeName
  if (name === 'int' || name === 'long' || name === 'abstract:long') out.add('integer')
  else if (name === 'float' || name === 'double') out.add('number')
  else if (name === 'boolean') out.add('boolean')
  else if (name === 'array') out.add('array')
  else if (name === 'record' || name === 'map') out.add('object')
  else if (name.startsWith('union:')) for (const member of type.types ?? []) avroDecoded(member, out)
  else if (name.startsWith('logical:') && !AVRO_PRIMITIVES[name] && type.underlyingType) avroDecoded(type.underlyingType, out)
  else if (name !== 'null') out.add('string')
  return out
}

/** The fields of an Avro writer schema (an avsc Type); undefined unless it is a record. */
export function avroFields(type: AvroType): WriterFields {
  if (type.typeName !== 'record') return undefined
  return (type.fields ?? []).map((f) => ({ name: f.name, type: avroToSchema(f.type), decoded: avroDecoded(f.type), label: `Avro ${avroName(f.type)}` }))
}

// ---- Protobuf (protobufjs reflection) ----

/** The part of a protobufjs Type this module reads. */
export interface ProtoMessage {
  readonly fullName: string
  readonly fieldsArray: readonly ProtoField[]
}

/** The part of a protobufjs Field (or MapField) this module reads. */
export interface ProtoField {
  readonly name: string
  readonly type: string
  readonly repeated: boolean
  readonly map?: boolean
  /** The synthetic oneof of a proto3 `optional` field, or a real oneof. */
  readonly partOf?: unknown
  readonly resolvedType?: ProtoMessage | { readonly values: Record<string, number> } | null
  resolve(): unknown
}

const PROTO_SCALARS: Record<string, readonly [() => TSchema, string]> = {
  string: [() => t.String(), 'string'],
  bytes: [() => t.String(), 'string'],
  int32: [() => t.Int32(), 'integer'],
  sint32: [() => t.Int32(), 'integer'],
  sfixed32: [() => t.Int32(), 'integer'],
  uint32: [() => t.UInt32(), 'integer'],
  fixed32: [() => t.UInt32(), 'integer'],
  int64: [() => t.Int64(), 'integer'],
  sint64: [() => t.Int64(), 'integer'],
  sfixed64: [() => t.Int64(), 'integer'],
  uint64: [() => t.UInt64(), 'integer'],
  fixed64: [() => t.UInt64(), 'integer'],
  float: [() => t.Float32(), 'number'],
  double: [() => t.Number(), 'number'],
  bool: [() => t.Boolean(), 'boolean'],
}

/** The pipeline type and decoded JSON type of one Protobuf field (its element type when repeated); `message` when an unset value reads null. */
function protoElement(field: ProtoField, depth: number): { type: Mapped; decoded: string; message: boolean } {
  const scalar = PROTO_SCALARS[field.type]
  if (scalar) return { type: scalar[0](), decoded: scalar[1], message: false }
  try {
    field.resolve()
  } catch {
    return { type: { unsupported: `has Protobuf type ${field.type}, which the schema does not define` }, decoded: 'object', message: true }
  }
  const resolved = field.resolvedType
  if (resolved && 'values' in resolved) return { type: t.Union(Object.keys(resolved.values).map((s) => t.Literal(s))), decoded: 'string', message: false }
  if (!resolved) return { type: { unsupported: `has Protobuf type ${field.type}, which no column type stores` }, decoded: 'object', message: true }
  if (resolved.fullName === '.google.protobuf.Timestamp') return { type: t.DateTime(), decoded: 'string', message: true }
  return { type: depth + 1 >= MAX_NESTING ? tooDeep : protoToSchema(resolved, depth + 1), decoded: 'object', message: true }
}

function protoToSchema(message: ProtoMessage, depth: number): Mapped {
  const properties: Record<string, TSchema> = {}
  for (const field of message.fieldsArray) {
    const mapped = protoField(field, depth).type
    if ('unsupported' in mapped) return { unsupported: `field "${field.name}" ${mapped.unsupported}` }
    properties[field.name] = mapped
  }
  return t.Object(properties)
}

function protoField(field: ProtoField, depth: number): { type: Mapped; decoded: Set<string> } {
  if (field.map) return { type: { unsupported: 'is a Protobuf map, which no column type stores' }, decoded: new Set(['object']) }
  const element = protoElement(field, depth)
  if (field.repeated) return { type: 'unsupported' in element.type ? element.type : t.Array(element.type), decoded: new Set(['array']) }
  // proto3 sets an absent scalar to its default; a message field or an `optional` one may be unset (null).
  return { type: element.message || field.partOf ? optional(element.type) : element.type, decoded: new Set([element.decoded]) }
}

/** The fields of a Protobuf writer message (a protobufjs Type). */
export function protobufFields(message: ProtoMessage): WriterFields {
  return message.fieldsArray.map((f) => ({ name: f.name, ...protoField(f, 0), label: `Protobuf ${f.map ? 'map' : f.repeated ? `repeated ${f.type}` : f.type}` }))
}

// ---- JSON Schema ----

type JsonNode = { type?: unknown; format?: unknown; enum?: unknown; items?: unknown; properties?: Record<string, JsonNode>; required?: unknown; $ref?: unknown; anyOf?: unknown; oneOf?: unknown }

/** The non-null types a JSON Schema node names (`type` or its `enum` values), and whether it allows null. */
function jsonTypes(node: JsonNode): { types: string[]; nullable: boolean } {
  const named = Array.isArray(node.type) ? node.type : node.type === undefined ? [] : [node.type]
  const fromEnum = Array.isArray(node.enum) ? node.enum.map((v) => (v === null ? 'null' : Number.isInteger(v) ? 'integer' : typeof v)) : []
  const all = [...new Set([...named, ...fromEnum].filter((x): x is string => typeof x === 'string'))]
  return { types: all.filter((x) => x !== 'null'), nullable: all.includes('null') }
}

function jsonToSchema(node: JsonNode, depth: number): Mapped {
  if (node.$ref !== undefined || node.anyOf !== undefined || node.oneOf !== undefined) return { unsupported: 'uses $ref, anyOf or oneOf, which flowhouse does not map to a column' }
  const { types, nullable } = jsonTypes(node)
  if (types.length !== 1) return { unsupported: types.length === 0 ? 'names no type' : `may be any of ${types.join(', ')} (one type and null are stored)` }
  let mapped: Mapped
  const type = types[0]!
  if (Array.isArray(node.enum) && type === 'string') mapped = t.Union(node.enum.filter((v): v is string => typeof v === 'string').map((s) => t.Literal(s)))
  else if (type === 'string') mapped = node.format === 'date-time' ? t.DateTime() : node.format === 'date' ? t.Date() : t.String()
  else if (type === 'integer') mapped = t.Int64()
  else if (type === 'number') mapped = t.Number()
  else if (type === 'boolean') mapped = t.Boolean()
  else if (depth >= MAX_NESTING) return tooDeep
  else if (type === 'array') {
    const items = node.items && typeof node.items === 'object' && !Array.isArray(node.items) ? jsonToSchema(node.items as JsonNode, depth + 1) : { unsupported: 'is an array without one items schema' }
    mapped = 'unsupported' in items ? items : t.Array(items)
  } else if (type === 'object' && node.properties) mapped = jsonObject(node, depth + 1)
  else return { unsupported: `is a JSON Schema ${type} without properties, which no column type stores` }
  return nullable ? optional(mapped) : mapped
}

function jsonObject(node: JsonNode, depth: number): Mapped {
  const required = new Set(Array.isArray(node.required) ? node.required : [])
  const properties: Record<string, TSchema> = {}
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const mapped = jsonToSchema(child, depth)
    if ('unsupported' in mapped) return { unsupported: `field "${name}" ${mapped.unsupported}` }
    properties[name] = required.has(name) ? mapped : t.Optional(mapped)
  }
  return t.Object(properties)
}

/** The fields of a JSON Schema writer schema (the parsed schema); undefined unless it is an object with properties. */
export function jsonSchemaFields(schema: unknown): WriterFields {
  const root = schema as JsonNode | null
  if (!root || typeof root !== 'object' || !root.properties || typeof root.properties !== 'object') return undefined
  const required = new Set(Array.isArray(root.required) ? root.required : [])
  return Object.entries(root.properties).map(([name, node]) => {
    const mapped = jsonToSchema(node, 0)
    const { types } = jsonTypes(node)
    return { name, type: required.has(name) ? mapped : optional(mapped), decoded: new Set(types), label: `JSON Schema ${types.join(' or ') || 'of any type'}` }
  })
}
