/**
 * A value decoded from a registry-encoded message, made into the JSON a pipeline schema
 * validates and JSONEachRow carries:
 *
 * - class instances (avsc records; protobufjs messages through their type's `toObject`: int64 as
 *   decimal strings, enums as names, bytes as base64, proto3 fields left at their default set to
 *   it) become plain objects;
 * - `Buffer` / `Uint8Array` (Avro `bytes` and `fixed`) become base64 text;
 * - `bigint` becomes decimal text, a `Date` ISO-8601 text;
 * - then, led by the pipeline schema: a number where the schema expects a string becomes its
 *   decimal text (an Avro `long` into `t.Int64()`), and a decimal integer string where it
 *   expects an integer or a number becomes a number when it is a safe integer (a Protobuf int64
 *   into `t.Integer()`).
 */
import type { TSchema } from '@sinclair/typebox'

/** protobufjs `toObject` options (its `toJSONOptions` plus `defaults`). */
const PROTO_OBJECT = { longs: String, enums: String, bytes: String, defaults: true, json: true }

/** Thrown by toPlain when a value nests deeper than the bound. */
export class TooDeep extends Error {}

/**
 * Plain JSON value of `value` (see the file comment).
 * @throws TooDeep when it nests deeper than `maxDepth` objects/arrays.
 */
export function toPlain(value: unknown, maxDepth: number, depth = 0): unknown {
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'bigint':
      return value.toString()
    case 'object':
      break
    default:
      return value
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  if (value instanceof Date) return value.toISOString()
  if (depth >= maxDepth) throw new TooDeep(`the record nests deeper than ${maxDepth} levels`)
  if (Array.isArray(value)) return value.map((item) => toPlain(item, maxDepth, depth + 1))
  // A protobufjs message: proto3 does not write fields at their default (0, '', false), so they
  // are set from the schema; int64 as decimal strings, enums as names, bytes as base64.
  const proto = (value as { $type?: { toObject?: unknown } }).$type
  if (typeof proto?.toObject === 'function') return toPlain((proto.toObject as (m: unknown, o: unknown) => unknown).call(proto, value, PROTO_OBJECT), maxDepth, depth)
  const json = (value as { toJSON?: unknown }).toJSON
  if (typeof json === 'function' && !(value instanceof Map)) {
    const converted: unknown = json.call(value)
    if (converted !== value) return toPlain(converted, maxDepth, depth)
  }
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toPlain(v, maxDepth, depth + 1)]))
  const out: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) out[key] = toPlain(field, maxDepth, depth + 1)
  return out
}

/** The JSON types a schema node names (`type`, and those of its anyOf/oneOf members, recursively); empty when it names none (`t.Unknown()`). */
export function types(node: TSchema): string[] {
  const type: unknown = node.type
  if (typeof type === 'string') return [type]
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === 'string')
  const members = (node.anyOf ?? node.oneOf) as TSchema[] | undefined
  return Array.isArray(members) ? members.flatMap(types) : []
}

function members(node: TSchema): TSchema[] {
  const list = (node.anyOf ?? node.oneOf) as TSchema[] | undefined
  return Array.isArray(list) ? list : [node]
}

/**
 * `value` (plain JSON, from toPlain) with numbers and integer strings coerced to what `schema`
 * expects (see the file comment); everything else as it is, for the validator to judge. Mutates
 * and returns `value`.
 */
export function coerceToSchema(schema: TSchema, value: unknown): unknown {
  const expected = types(schema)
  if (typeof value === 'number' && expected.includes('string') && !expected.includes('number') && !expected.includes('integer')) return String(value)
  if (typeof value === 'string' && !expected.includes('string') && (expected.includes('integer') || expected.includes('number')) && /^-?\d+$/.test(value)) {
    const n = Number(value)
    return Number.isSafeInteger(n) ? n : value
  }
  if (Array.isArray(value)) {
    const items = members(schema).find((m) => m.type === 'array')?.items as TSchema | undefined
    if (items) for (let i = 0; i < value.length; i++) value[i] = coerceToSchema(items, value[i])
    return value
  }
  if (typeof value === 'object' && value !== null) {
    const properties = members(schema).find((m) => m.type === 'object')?.properties as Record<string, TSchema> | undefined
    if (properties) {
      const record = value as Record<string, unknown>
      for (const [key, field] of Object.entries(properties)) if (key in record) record[key] = coerceToSchema(field, record[key])
    }
  }
  return value
}
