/**
 * Schema → ClickHouse columns. Fields map one-to-one to columns, in schema order (similar
 * names such as ppm1, ppm2 stay distinct columns). Any JSON key is a field name and the
 * column of the same name (`Rotten Tomatoes Rating`); the DDL quotes it. Anything the contract does not support
 * throws a ConfigError naming the owner and the field path (`route.origin`, `tags[]`).
 *
 *   string → String            number → Float64            integer → Int64 (or its annotated width)
 *   boolean → Bool             date-time → DateTime64(3, 'UTC')   date → Date32
 *   string literals / string enum → Enum8('a' = 1, ...) (Enum16 above 127 values)
 *   array → Array(T)           object → Tuple(a T, b U)    optional or T | null → Nullable(T)
 *   Key(T) → same as T         LowCardinality(String) → LowCardinality(String)
 */
import { Kind, type TSchema } from '@sinclair/typebox'
import { ANNOTATION_JSON_TYPE, CLICKHOUSE_KEYWORD, DATE_TYPE, DATETIME_TYPE, LOW_CARDINALITY_KEYWORD } from './annotations.ts'
import { backquote } from '../util/backquote.ts'
import { IDENTIFIER, configError, describe, type Owner } from './config-error.ts'
import type { ColumnDef } from './types.ts'

type Node = Record<string | symbol, unknown>

interface Walk {
  owner: Owner
  /** Optional/nullable arrays are allowed where no table is created (contract: nullable nested arrays need `table: false`). */
  nullableArrays: boolean
}

const ENUM8_MAX = 127
const ENUM16_MAX = 32_767

/**
 * The ClickHouse columns of a table schema (a `t.Object`), one per top-level field, in
 * schema order. Throws ConfigError (rule `schema`, `type` or `name`) on the first field
 * whose type is unsupported, including optional arrays (ClickHouse: "Nested type
 * Array(String) cannot be inside Nullable type").
 */
export function columnsOf(schema: TSchema, owner: Owner): ColumnDef[] {
  return topLevel(schema, { owner, nullableArrays: false })
}

/**
 * Checks that every field of a schema is a supported type, without building a table:
 * used for streams and for pipelines with `table: false`, where optional arrays are allowed.
 * Throws ConfigError like columnsOf.
 */
export function checkSchemaTypes(schema: TSchema, owner: Owner, options: { nullableArrays: boolean }): void {
  topLevel(schema, { owner, nullableArrays: options.nullableArrays })
}

function topLevel(schema: unknown, walk: Walk): ColumnDef[] {
  const node = schema as Node
  if (typeof schema !== 'object' || schema === null || node.type !== 'object' || !isPlainRecord(node.properties) || Object.keys(node.properties).length === 0) {
    throw configError(walk.owner, undefined, 'schema', 'the schema must be an object with at least one field', 'declare it as t.Object({ ... }) with one property per column')
  }
  return fieldsOf(node, '', walk)
}

function fieldsOf(node: Node, path: string, walk: Walk): ColumnDef[] {
  if (node.patternProperties !== undefined || isPlainRecord(node.additionalProperties)) throw mapped(walk, path)
  const properties = node.properties as Record<string, unknown>
  const required = Array.isArray(node.required) ? (node.required as unknown[]) : []
  return Object.entries(properties).map(([name, field]) => {
    const fieldPath = path === '' ? name : `${path}.${name}`
    if (name === '') throw configError(walk.owner, { field: fieldPath }, 'name', 'field names must not be empty', 'give the field a name')
    const type = required.includes(name) ? typeOf(field, fieldPath, walk) : nullableOf(field, fieldPath, walk)
    return { name, type }
  })
}

function typeOf(schema: unknown, path: string, walk: Walk): string {
  if (!isPlainRecord(schema)) throw unsupported(walk, path, describe(schema))
  const node = schema as Node
  if (node.$ref !== undefined || node[Kind] === 'This' || node[Kind] === 'Ref') {
    throw configError(walk.owner, { field: path }, 'type', 'references and recursive types are not supported', 'inline the referenced schema')
  }
  if (node.allOf !== undefined) {
    throw configError(walk.owner, { field: path }, 'type', 'intersections are not supported', 'merge the objects into one with t.Composite([...])')
  }
  const base = unwrappedTypeOf(node, path, walk)
  if (node[LOW_CARDINALITY_KEYWORD] !== true) return base
  if (base !== 'String' && base !== 'Nullable(String)') {
    throw configError(walk.owner, { field: path }, 'type', `LowCardinality applies to strings only (got ${base})`, 'wrap t.String() in t.LowCardinality, or remove t.LowCardinality')
  }
  return `LowCardinality(${base})`
}

function unwrappedTypeOf(node: Node, path: string, walk: Walk): string {
  const members = (node.anyOf ?? node.oneOf) as unknown
  if (Array.isArray(members)) return unionOf(members, path, walk)
  if (Array.isArray(node.type)) return unionOf(node.type.map((type: unknown) => ({ ...node, type, [LOW_CARDINALITY_KEYWORD]: undefined })), path, walk)
  if (Array.isArray(node.enum)) return enumOf(node.enum, path, walk)
  if (typeof node.const === 'string') return enumOf([node.const], path, walk)
  return baseTypeOf(node, path, walk)
}

function baseTypeOf(node: Node, path: string, walk: Walk): string {
  const annotation = annotationOf(node, path, walk)
  switch (node.type) {
    case 'string':
      if (annotation !== undefined) return annotation
      if (node.format === 'date-time') return DATETIME_TYPE
      if (node.format === 'date') return DATE_TYPE
      return 'String'
    case 'number':
      return annotation ?? 'Float64'
    case 'integer':
      return annotation ?? 'Int64'
    case 'boolean':
      return 'Bool'
    case 'array':
      return arrayOf(node, path, walk)
    case 'object':
      return tupleOf(node, path, walk)
    case 'null':
      throw configError(walk.owner, { field: path }, 'type', 'null is not a type on its own', `make "${path}" optional with t.Optional(T), or nullable with t.Nullable(T)`)
    case 'Uint8Array':
      throw configError(walk.owner, { field: path }, 'type', 'bytes (Uint8Array) are not supported', 'send the bytes as a base64 or hex t.String()')
    case 'Date':
      throw configError(walk.owner, { field: path }, 'type', 'a JavaScript Date is not a JSON type', "use t.DateTime() for an ISO 8601 date-time string or t.Date() for 'YYYY-MM-DD'")
    case 'bigint':
      throw configError(walk.owner, { field: path }, 'type', 'bigint is not a JSON type', 'carry large integers as decimal strings with t.Int64() or t.UInt64()')
    case undefined:
      if (node.properties !== undefined) return tupleOf(node, path, walk)
      if ((node.not === undefined && Object.keys(node).length === 0) || node[Kind] === 'Any' || node[Kind] === 'Unknown') {
        throw configError(walk.owner, { field: path }, 'type', 'any/unknown is not supported', 'give the field a concrete type such as t.String() or t.Number()')
      }
      throw unsupported(walk, path, String(node[Kind] ?? describe(node)))
    default:
      throw unsupported(walk, path, String(node[Kind] ?? node.type))
  }
}

function annotationOf(node: Node, path: string, walk: Walk): string | undefined {
  const annotation = node[CLICKHOUSE_KEYWORD]
  if (annotation === undefined) return undefined
  const jsonType = typeof annotation === 'string' ? ANNOTATION_JSON_TYPE[annotation] : undefined
  if (jsonType === undefined) {
    throw configError(walk.owner, { field: path }, 'type', `unsupported ${CLICKHOUSE_KEYWORD} annotation ${describe(annotation)}`, 'use the t.* helpers (t.Int32(), t.Int64(), t.Float32(), t.DateTime(), t.Date() ...) instead of writing the annotation by hand')
  }
  if (node.type !== jsonType) {
    throw configError(walk.owner, { field: path }, 'type', `${CLICKHOUSE_KEYWORD} ${annotation} needs JSON type ${jsonType} (got ${describe(node.type)})`, 'use the t.* helpers instead of writing the annotation by hand')
  }
  return annotation as string
}

function unionOf(members: unknown[], path: string, walk: Walk): string {
  const nonNull = members.filter((member) => !(isPlainRecord(member) && member.type === 'null'))
  if (nonNull.length === 0) return typeOf({ type: 'null' }, path, walk)
  if (nonNull.every((member) => isPlainRecord(member) && member.const !== undefined)) {
    const values = nonNull.map((member) => (member as Node).const)
    const type = enumOf(values, path, walk)
    return nonNull.length < members.length ? `Nullable(${type})` : type
  }
  if (nonNull.length === 1 && nonNull.length < members.length) return nullableOf(nonNull[0], path, walk)
  throw configError(walk.owner, { field: path }, 'type', 'unions are not supported except T | null and unions of string literals', `split "${path}" into one field per type, or use one type for all values`)
}

function enumOf(values: unknown[], path: string, walk: Walk): string {
  const bad = values.find((value) => typeof value !== 'string')
  if (bad !== undefined) {
    throw configError(walk.owner, { field: path }, 'type', `enum values must be strings (got ${describe(bad)})`, "use string values, e.g. t.Union([t.Literal('a'), t.Literal('b')])")
  }
  const seen = new Set<unknown>()
  const duplicate = values.find((value) => seen.has(value) || !seen.add(value))
  if (duplicate !== undefined) throw configError(walk.owner, { field: path }, 'type', `enum value ${describe(duplicate)} appears twice`, 'list each value once')
  if (values.length > ENUM16_MAX) {
    throw configError(walk.owner, { field: path }, 'type', `enums may have at most ${ENUM16_MAX} values (got ${values.length})`, 'use t.LowCardinality(t.String()) instead')
  }
  const width = values.length > ENUM8_MAX ? 'Enum16' : 'Enum8'
  const items = (values as string[]).map((value, index) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}' = ${index + 1}`)
  return `${width}(${items.join(', ')})`
}

function nullableOf(schema: unknown, path: string, walk: Walk): string {
  const inner = typeOf(schema, path, walk)
  if (inner.startsWith('Nullable(') || inner.startsWith('LowCardinality(Nullable(')) return inner
  if (inner.startsWith('LowCardinality(')) return `LowCardinality(Nullable(${inner.slice('LowCardinality('.length, -1)}))`
  const structured = inner.startsWith('Tuple(') ? 'objects' : inner.startsWith('Array(') ? 'arrays' : undefined
  if (structured !== undefined && path.endsWith('[]') && !(structured === 'arrays' && walk.nullableArrays)) {
    const why = structured === 'objects' ? 'ClickHouse has no Nullable(Tuple)' : `Nested type ${inner} cannot be inside Nullable type`
    throw configError(walk.owner, { field: path }, 'type', `nullable array elements must not be ${structured} (${why})`, `make the elements of "${path.slice(0, -2)}" non-nullable`)
  }
  if (structured === 'objects') {
    throw configError(walk.owner, { field: path }, 'type', 'optional or nullable objects are not supported (ClickHouse has no Nullable(Tuple))', `make "${path}" required, or move its fields up as optional fields`)
  }
  if (structured === 'arrays') {
    if (walk.nullableArrays) return inner
    const fix = walk.owner.kind === 'pipeline' ? `make "${path}" required and send [] for none, or set table: false on the pipeline` : `make "${path}" required and send [] for none`
    throw configError(walk.owner, { field: path }, 'type', `optional or nullable arrays cannot be ClickHouse columns (Nested type ${inner} cannot be inside Nullable type)`, fix)
  }
  return `Nullable(${inner})`
}

function arrayOf(node: Node, path: string, walk: Walk): string {
  if (Array.isArray(node.items) || node.prefixItems !== undefined || node[Kind] === 'Tuple') {
    throw configError(walk.owner, { field: path }, 'type', 'tuples are not supported', 'use an object with named fields, or an array whose elements all have one type')
  }
  if (node.items === undefined) {
    throw configError(walk.owner, { field: path }, 'type', 'arrays must declare the type of their elements', 'use t.Array(T) with a concrete T')
  }
  return `Array(${typeOf(node.items, `${path}[]`, walk)})`
}

function tupleOf(node: Node, path: string, walk: Walk): string {
  if (node.patternProperties !== undefined || isPlainRecord(node.additionalProperties)) throw mapped(walk, path)
  if (!isPlainRecord(node.properties) || Object.keys(node.properties).length === 0) {
    throw configError(walk.owner, { field: path }, 'type', 'nested objects must declare at least one field', `add fields to "${path}" or remove it`)
  }
  const fields = fieldsOf(node, path, walk)
  return `Tuple(${fields.map((field) => `${elementName(field.name)} ${field.type}`).join(', ')})`
}

function mapped(walk: Walk, path: string) {
  const where = path === '' ? 'the schema' : `"${path}"`
  return configError(walk.owner, path === '' ? undefined : { field: path }, 'type', 'mapped types (t.Record, patternProperties, additionalProperties schemas) are not supported', `declare each field of ${where} explicitly in t.Object({ ... })`)
}

function unsupported(walk: Walk, path: string, what: string) {
  return configError(walk.owner, { field: path }, 'type', `type ${what} is not supported`, 'use string, number, integer, boolean, date/date-time, enum, array, object or an optional of these')
}

/** A tuple element name as ClickHouse prints it: bare when an identifier, backquoted (`\\` and `` ` `` escaped) otherwise. */
function elementName(name: string): string {
  return IDENTIFIER.test(name) ? name : backquote(name)
}

function isPlainRecord(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
