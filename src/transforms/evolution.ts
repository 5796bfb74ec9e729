/**
 * Schema evolution of a schema registry pipeline, judged in the worker once per writer schema
 * (registry schema id) against the pipeline schema. Avro writer schemas only; a Protobuf or JSON
 * Schema writer schema is read as it is (no columns added, nothing refused).
 *
 * | writer schema field | pipeline schema | outcome |
 * | not in the pipeline schema, Avro type mappable (table below) | - | added: validated as that type, and a column for it is added to the pipeline table (SchemaEvolution.columns) |
 * | not in the pipeline schema, not mappable (`map`, a union of several types, a nullable record or array) | - | refused: a problem; ClickHouse skips the field |
 * | its JSON type is one the pipeline field accepts (null aside; a number where text is declared) | declared | read as declared; each record is validated as before |
 * | its JSON type is one the pipeline field does not accept (`string` for `t.Int32()`) | declared | refused (retyped): the field is removed from the record, stored as the column's NULL/default |
 * | absent | required | refused (removed): not required for this writer schema, stored as the column's NULL/default |
 * | absent | optional | nothing: absent, as in any record |
 *
 * | Avro (added field) | pipeline type | column |
 * | `string`, `bytes`, `fixed` (base64), `decimal` (text) | `t.String()` | `String` |
 * | `int` / `long` | `t.Int32()` / `t.Int64()` | `Int32` / `Int64` |
 * | `float` / `double` | `t.Float32()` / `t.Number()` | `Float32` / `Float64` |
 * | `boolean` | `t.Boolean()` | `Bool` |
 * | `timestamp-millis`, `timestamp-micros` / `date` | `t.DateTime()` / `t.Date()` | `DateTime64(3, 'UTC')` / `Date32` |
 * | `enum` | `t.Union([t.Literal(...)])` | `Enum8(...)` |
 * | `array` / `record` | `t.Array(T)` / `t.Object({...})` | `Array(T)` / `Tuple(...)` |
 * | `["null", T]` | `t.Optional(T)` | `Nullable(T)` |
 *
 * Problems are sentences in the words of a destructive module change (clickhouse/provision.ts):
 * the main thread reports them with that message (clickhouse/evolve.ts).
 */
import type { TSchema } from '@sinclair/typebox'
import { columnsOf } from '../model/typemap.ts'
import { t } from '../model/schema.ts'
import { messageOf } from '../errors.ts'
import { types } from './normalize.ts'
import { EVOLVED_COMMENT } from '../clickhouse/columns.ts'
import type { ColumnDef, SchemaEvolution, StreamLike } from '../model/types.ts'

/** How the records of one writer schema are read. */
export interface WriterView {
  /** The pipeline schema with the added fields, and without the required fields this writer lacks or retyped. */
  schema: TSchema
  /** Retyped fields, removed from each record before it is validated. */
  dropped: string[]
  /** Present when something is added or refused. */
  evolution?: SchemaEvolution
}

/** The part of avsc's Type this module reads (typeName: `record`, `union:unwrapped`, `logical:date` ...). */
export interface AvroType {
  readonly typeName: string
  readonly fields?: ReadonlyArray<{ readonly name: string; readonly type: AvroType }>
  readonly types?: readonly AvroType[]
  readonly itemsType?: AvroType
  readonly symbols?: readonly string[]
  readonly underlyingType?: AvroType
}

const PRIMITIVES: Record<string, () => TSchema> = {
  string: () => t.String(),
  bytes: () => t.String(),
  fixed: () => t.String(),
  int: () => t.Int32(),
  long: () => t.Int64(),
  float: () => t.Float32(),
  double: () => t.Number(),
  boolean: () => t.Boolean(),
  'logical:timestamp-millis': () => t.DateTime(),
  'logical:timestamp-micros': () => t.DateTime(),
  'logical:date': () => t.Date(),
  'logical:decimal': () => t.String(),
}

/** Records nest at most this deep in an added field (a recursive Avro record is refused). */
const MAX_NESTING = 16

/** The pipeline type of an Avro type (table above), or the reason it has none. */
export function avroToSchema(type: AvroType, depth = 0): TSchema | { unsupported: string } {
  const primitive = PRIMITIVES[type.typeName]
  if (primitive) return primitive()
  if (type.typeName.startsWith('logical:') && type.underlyingType) return avroToSchema(type.underlyingType, depth)
  if (depth >= MAX_NESTING) return { unsupported: `nests deeper than ${MAX_NESTING} levels` }
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
      const only = avroToSchema(rest[0]!, depth)
      return 'unsupported' in only ? only : t.Optional(only)
    }
    default:
      return { unsupported: `has Avro type ${type.typeName}, which no column type stores` }
  }
}

/** A short name of an Avro type for messages: `long`, `date`, `["null", string]`. */
function avroName(type: AvroType): string {
  if (type.typeName.startsWith('union:')) return `[${(type.types ?? []).map(avroName).join(', ')}]`
  return type.typeName.replace(/^logical:/, '')
}

/** JSON types the values of an Avro type decode to (normalize.ts), null aside: an `int` or `long` is an integer, whatever column it maps to. */
function decodedTypes(type: AvroType, out = new Set<string>()): Set<string> {
  const name = type.typeName
  if (name === 'int' || name === 'long') out.add('integer')
  else if (name === 'float' || name === 'double') out.add('number')
  else if (name === 'boolean') out.add('boolean')
  else if (name === 'array') out.add('array')
  else if (name === 'record' || name === 'map') out.add('object')
  else if (name.startsWith('union:')) for (const member of type.types ?? []) decodedTypes(member, out)
  else if (name.startsWith('logical:') && !PRIMITIVES[name] && type.underlyingType) decodedTypes(type.underlyingType, out)
  else if (name !== 'null') out.add('string')
  return out
}

/** Whether every value of the Avro type `writer` is one `declared` accepts (normalize.ts coerces an integer or number to declared text). */
function accepts(declared: TSchema, writer: AvroType): boolean {
  const mine = new Set(types(declared).filter((type) => type !== 'null'))
  if (mine.size === 0) return true
  return [...decodedTypes(writer)].every((w) => mine.has(w) || (w === 'integer' && mine.has('number')) || ((w === 'integer' || w === 'number') && mine.has('string')))
}

const views = new WeakMap<TSchema, Map<number, WriterView>>()

/**
 * How `stream`'s records are read when written with the Avro record schema `writer` (registry
 * schema id `schemaId`); see the tables above. Cached per pipeline schema and schema id.
 * @param subject named in the column comments and problems when the pipeline declares one.
 * Never throws: a field that cannot be a column becomes a problem.
 */
export function writerView(stream: StreamLike, writer: AvroType, schemaId: number, subject?: string): WriterView {
  let byId = views.get(stream.schema)
  if (!byId) views.set(stream.schema, (byId = new Map()))
  let view = byId.get(schemaId)
  if (!view) byId.set(schemaId, (view = judge(stream, writer, schemaId, subject)))
  return view
}

function judge(stream: StreamLike, writer: AvroType, schemaId: number, subject: string | undefined): WriterView {
  const base = stream.schema
  if (writer.typeName !== 'record') return { schema: base, dropped: [] }
  const declared = (base.properties ?? {}) as Record<string, TSchema>
  const required = new Set((base.required ?? []) as string[])
  const of = `schema id ${schemaId}${subject === undefined ? '' : ` (subject "${subject}")`}`
  const properties: Record<string, TSchema> = { ...declared }
  const columns: ColumnDef[] = []
  const problems: string[] = []
  const dropped: string[] = []
  const table = stream.destination?.kind === 'table' ? stream.destination.name : stream.name
  const fields = writer.fields ?? []
  for (const field of fields) {
    const mine = declared[field.name]
    if (mine === undefined) {
      const mapped = avroToSchema(field.type)
      if ('unsupported' in mapped) {
        problems.push(`field "${field.name}" of ${of} ${mapped.unsupported}: it gets no column and is not stored`)
        continue
      }
      try {
        const [column] = columnsOf(t.Object({ [field.name]: mapped }), { kind: 'table', name: table })
        columns.push({ ...column!, comment: `${EVOLVED_COMMENT} ${schemaId}${subject === undefined ? '' : ` (subject "${subject}")`}` })
        properties[field.name] = mapped
      } catch (error) {
        problems.push(`field "${field.name}" of ${of} gets no column (${messageOf(error)}) and is not stored`)
      }
      continue
    }
    if (!accepts(mine, field.type)) {
      problems.push(`column "${field.name}" is declared as ${[...new Set(types(mine).filter((type) => type !== 'null'))].join(' or ')} but ${of} retypes it as Avro ${avroName(field.type)}: stored as its NULL/default`)
      dropped.push(field.name)
    }
  }
  const present = new Set(fields.map((f) => f.name))
  for (const name of required) if (!present.has(name)) problems.push(`column "${name}" is required but ${of} removed the field: stored as its NULL/default`)
  const keep = [...required].filter((name) => present.has(name) && !dropped.includes(name))
  const changed = columns.length > 0 || problems.length > 0
  const schema = changed ? ({ ...base, properties, required: keep } as TSchema) : base
  const evolution = changed ? { schemaId, ...(subject === undefined ? {} : { subject }), columns, problems } : undefined
  return { schema, dropped, ...(evolution ? { evolution } : {}) }
}
