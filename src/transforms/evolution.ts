/**
 * Schema evolution of a schema registry pipeline, judged in the worker once per writer schema
 * (registry schema id: Avro, Protobuf or JSON Schema) against the pipeline schema. The writer's
 * fields and the types they map to are read by writer-fields.ts.
 *
 * | writer schema field | pipeline schema | outcome |
 * | not in the pipeline schema, type mappable (writer-fields.ts) | - | added: validated as that type, and a column for it is added to the pipeline table (SchemaEvolution.columns) |
 * | not in the pipeline schema, not mappable (a map, a union of several types, an optional record or array) | - | refused: a problem; ClickHouse skips the field |
 * | its JSON type is one the pipeline field accepts (null aside; a number where text is declared) | declared | read as declared; each record is validated as before |
 * | its JSON type is one the pipeline field does not accept (`string` for `t.Int32()`) | declared | refused (retyped): the field is removed from the record, stored as the column's NULL/default |
 * | absent | required | refused (removed): not required for this writer schema, stored as the column's NULL/default |
 * | absent | optional | nothing: absent, as in any record |
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
import type { WriterField, WriterFields } from './writer-fields.ts'

/** How the records of one writer schema are read. */
export interface WriterView {
  /** The pipeline schema with the added fields, and without the required fields this writer lacks or retyped. */
  schema: TSchema
  /** Retyped fields, removed from each record before it is validated. */
  dropped: string[]
  /** Present when something is added or refused. */
  evolution?: SchemaEvolution
}

/** Whether every value of `writer` is one `declared` accepts (normalize.ts coerces an integer or number to declared text, and integer text to a declared integer). */
function accepts(declared: TSchema, writer: WriterField): boolean {
  const mine = new Set(types(declared).filter((type) => type !== 'null'))
  if (mine.size === 0) return true
  return [...writer.decoded].every((w) => mine.has(w) || (w === 'integer' && mine.has('number')) || ((w === 'integer' || w === 'number') && mine.has('string')))
}

const views = new WeakMap<TSchema, Map<number, WriterView>>()

/**
 * How `stream`'s records are read when written with a writer schema whose fields are `fields`
 * (registry schema id `schemaId`; undefined when its top level is not a record); see the table
 * above. Cached per pipeline schema and schema id: `fields` is called once per id.
 * @param subject named in the column comments and problems when the pipeline declares one.
 * Never throws: a field that cannot be a column becomes a problem.
 */
export function writerView(stream: StreamLike, fields: () => WriterFields, schemaId: number, subject?: string): WriterView {
  let byId = views.get(stream.schema)
  if (!byId) views.set(stream.schema, (byId = new Map()))
  let view = byId.get(schemaId)
  if (!view) byId.set(schemaId, (view = judge(stream, fields(), schemaId, subject)))
  return view
}

function judge(stream: StreamLike, fields: WriterFields, schemaId: number, subject: string | undefined): WriterView {
  const base = stream.schema
  if (fields === undefined) return { schema: base, dropped: [] }
  const declared = (base.properties ?? {}) as Record<string, TSchema>
  const required = new Set((base.required ?? []) as string[])
  const of = `schema id ${schemaId}${subject === undefined ? '' : ` (subject "${subject}")`}`
  const properties: Record<string, TSchema> = { ...declared }
  const columns: ColumnDef[] = []
  const problems: string[] = []
  const dropped: string[] = []
  const table = stream.destination?.kind === 'table' ? stream.destination.name : stream.name
  for (const field of fields) {
    const mine = declared[field.name]
    if (mine === undefined) {
      const mapped = field.type
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
    if (!accepts(mine, field)) {
      problems.push(`column "${field.name}" is declared as ${[...new Set(types(mine).filter((type) => type !== 'null'))].join(' or ')} but ${of} retypes it as ${field.label}: stored as its NULL/default`)
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
