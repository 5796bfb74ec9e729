/**
 * `flowhouse schema import <subject> [--registry URL] [--version N]`: prints a pipeline module
 * skeleton with the TypeBox schema of a registry subject's Avro, Protobuf or JSON Schema schema,
 * so a user can start a module from an existing topic.
 *
 * Protobuf (the message the decoder reads: the schema's first) and JSON Schema subjects are read
 * as decoding reads them, with the types of transforms/writer-fields.ts; a field no column stores
 * is printed as `t.Unknown()` with the reason, and an optional record (a Protobuf message field,
 * an optional JSON Schema object) as the required `t.Object` with a comment (no Nullable(Tuple)).
 *
 * | Avro | printed |
 * | `string`, `uuid`, `bytes`, `fixed`, `decimal` | `t.String()` |
 * | `int` / `long` | `t.Int32()` / `t.Int64()` |
 * | `float` / `double` | `t.Float32()` / `t.Number()` |
 * | `boolean` | `t.Boolean()` |
 * | `timestamp-millis`, `timestamp-micros` / `date` | `t.DateTime()` / `t.Date()` |
 * | `enum` | `t.Union([t.Literal(...), ...])` |
 * | `array` | `t.Array(T)` |
 * | `record` | `t.Object({...})` |
 * | `["null", T]` | `t.Optional(T)`; for a record T, the required `t.Object` (ClickHouse has no Nullable(Tuple): a null record is refused) |
 * | `map`, other unions | `t.Unknown()` with a comment (not storable: replace it) |
 *
 * The first field is wrapped in `Key()` (a table needs exactly one): move it to the field that
 * identifies a record.
 */
import type { TSchema } from '@sinclair/typebox'
import type { Command } from 'commander'
import { FlowhouseError, messageOf } from '../errors.ts'
import { setting } from '../util/environment.ts'
import { schemaFields } from '../transforms/registry.ts'
import type { WriterFields } from '../transforms/writer-fields.ts'

type Avro = string | { type: unknown; [key: string]: unknown } | Avro[]

const PRIMITIVE: Record<string, string> = {
  string: 't.String()',
  bytes: 't.String() /* bytes as base64 */',
  int: 't.Int32()',
  long: 't.Int64()',
  float: 't.Float32()',
  double: 't.Number()',
  boolean: 't.Boolean()',
}

function expression(type: Avro, indent: string): string {
  if (Array.isArray(type)) {
    const rest = type.filter((member) => member !== 'null')
    const only = rest.length === 1 && rest.length < type.length ? rest[0]! : undefined
    const record = typeof only === 'object' && !Array.isArray(only) && only.type === 'record'
    // ClickHouse has no Nullable(Tuple): a nullable record is printed required, so the module loads.
    if (only !== undefined && record) return `${expression(only, indent)} /* null in Avro: refused here (no Nullable(Tuple)) */`
    if (only !== undefined) return `t.Optional(${expression(only, indent)})`
    return `t.Unknown() /* union ${JSON.stringify(type)}: not supported, replace it */`
  }
  if (typeof type === 'string') return PRIMITIVE[type] ?? `t.Unknown() /* named type ${type}: inline it */`
  const logical = type.logicalType
  if (logical === 'timestamp-millis' || logical === 'timestamp-micros') return 't.DateTime()'
  if (logical === 'date') return 't.Date()'
  if (logical === 'decimal') return `t.String() /* decimal(${String(type.precision)}, ${String(type.scale ?? 0)}) as text */`
  if (logical === 'uuid') return 't.String({ format: \'uuid\' })'
  switch (type.type) {
    case 'record':
      return objectOf(type.fields as Array<{ name: string; type: Avro }>, indent, false)
    case 'enum':
      return `t.Union([${(type.symbols as string[]).map((s) => `t.Literal(${JSON.stringify(s)})`).join(', ')}])`
    case 'array':
      return `t.Array(${expression(type.items as Avro, indent)})`
    case 'fixed':
      return 't.String() /* fixed bytes as base64 */'
    case 'map':
      return 't.Unknown() /* map: no column type, replace it */'
    default:
      return expression(type.type as Avro, indent)
  }
}

const propertyName = (name: string) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name))

function objectOf(fields: Array<{ name: string; type: Avro }>, indent: string, key: boolean): string {
  const inner = `${indent}  `
  const lines = fields.map((field, i) => {
    const value = expression(field.type, inner)
    return `${inner}${propertyName(field.name)}: ${key && i === 0 ? `Key(${value})` : value},`
  })
  return `t.Object({\n${lines.join('\n')}\n${indent}})`
}

const BY_CLICKHOUSE: Record<string, string> = { Int32: 't.Int32()', UInt32: 't.UInt32()', Int64: 't.Int64()', UInt64: 't.UInt64()', Float32: 't.Float32()', Date32: 't.Date()' }

/** TypeBox source of a pipeline type built by writer-fields.ts (its closed set of t.* constructors). */
function sourceOf(node: TSchema, indent: string): string {
  const members = (node.anyOf ?? []) as TSchema[]
  const rest = members.filter((m) => m.type !== 'null')
  if (rest.length === 1 && rest.length < members.length) {
    const inner = sourceOf(rest[0]!, indent)
    return rest[0]!.type === 'object' ? `${inner} /* may be null: refused here (no Nullable(Tuple)) */` : `t.Optional(${inner})`
  }
  if (members.length > 0 && members.every((m) => m.const !== undefined)) return `t.Union([${members.map((m) => `t.Literal(${JSON.stringify(m.const)})`).join(', ')}])`
  const clickhouse = BY_CLICKHOUSE[String(node['x-clickhouse'])]
  if (clickhouse) return clickhouse
  switch (node.type) {
    case 'string':
      return node.format === 'date-time' ? 't.DateTime()' : 't.String()'
    case 'integer':
      return 't.Integer()'
    case 'number':
      return 't.Number()'
    case 'boolean':
      return 't.Boolean()'
    case 'array':
      return `t.Array(${sourceOf(node.items as TSchema, indent)})`
    case 'object': {
      const required = new Set((node.required ?? []) as string[])
      const inner = `${indent}  `
      const lines = Object.entries((node.properties ?? {}) as Record<string, TSchema>).map(([name, child]) => {
        const text = sourceOf(child, inner)
        return `${inner}${propertyName(name)}: ${required.has(name) || text.startsWith('t.Optional(') ? text : `t.Optional(${text})`},`
      })
      return `t.Object({\n${lines.join('\n')}\n${indent}})`
    }
    default:
      return 't.Unknown()'
  }
}

/** A module skeleton's source: the header, then `export const <name> = <body>` and its Static type. */
function moduleSource(origin: string, name: string, body: string): string {
  return [
    `// ${origin}`,
    "import { Key, t, type Static } from 'flowhouse'",
    '',
    '// Key: the first field; move Key() to the field that identifies a record.',
    `export const ${name} = ${body}`,
    `export type ${name} = Static<typeof ${name}>`,
    '',
  ].join('\n')
}

const identifier = (name: unknown) => (typeof name === 'string' && name !== '' ? name.replace(/[^A-Za-z0-9_]/g, '_') : 'Record')

/**
 * TypeScript source of a module skeleton for an Avro record schema (see the table above).
 * @throws FlowhouseError BAD_REQUEST when the schema is not an Avro record.
 */
export function typeboxModuleOf(schemaText: string, origin: string): string {
  const schema = JSON.parse(schemaText) as { type?: unknown; name?: unknown; fields?: unknown }
  if (schema.type !== 'record' || !Array.isArray(schema.fields)) throw new FlowhouseError('BAD_REQUEST', `${origin} is not an Avro record schema`)
  return moduleSource(origin, identifier(schema.name), objectOf(schema.fields as Array<{ name: string; type: Avro }>, '', true))
}

/**
 * TypeScript source of a module skeleton for the fields of a Protobuf or JSON Schema writer
 * schema (transforms/writer-fields.ts), the first field as the Key.
 * @throws FlowhouseError BAD_REQUEST when the schema has no fields (not a message or an object with properties).
 */
export function typeboxModuleOfFields(fields: WriterFields, name: string | undefined, origin: string): string {
  if (fields === undefined || fields.length === 0) throw new FlowhouseError('BAD_REQUEST', `${origin} is not a record schema with fields`)
  const lines = fields.map((field, i) => {
    const text = 'unsupported' in field.type ? `t.Unknown() /* ${field.label} ${field.type.unsupported}: replace it */` : sourceOf(field.type, '  ')
    return `  ${propertyName(field.name)}: ${i === 0 ? `Key(${text})` : text},`
  })
  return moduleSource(origin, identifier(name), `t.Object({\n${lines.join('\n')}\n})`)
}

/** Registers `flowhouse schema import`. */
export function registerSchemaCommands(program: Command): void {
  const schema = program.command('schema').description('schemas of a Confluent-compatible schema registry')
  schema
    .command('import')
    .description("print a TypeBox schema (a pipeline module skeleton) for a registry subject's Avro, Protobuf or JSON Schema schema")
    .argument('<subject>', 'registry subject, e.g. payments-value')
    .option('--registry <url>', 'registry Confluent API (env SCHEMA_REGISTRY_URL, default http://127.0.0.1:8081/apis/ccompat/v7)')
    .option('--version <n>', 'schema version (default latest)', 'latest')
    .action(async (subject: string, opts: { registry?: string; version: string }) => {
      const url = (opts.registry ?? setting('SCHEMA_REGISTRY_URL')).replace(/\/+$/, '')
      const user = setting('SCHEMA_REGISTRY_USERNAME')
      const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' }
      if (user !== undefined) headers.authorization = `Basic ${Buffer.from(`${user}:${setting('SCHEMA_REGISTRY_PASSWORD') ?? ''}`).toString('base64')}`
      const res = await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions/${encodeURIComponent(opts.version)}`, { headers })
      const body = (await res.json().catch(() => ({}))) as { schema?: string; schemaType?: string; version?: number; id?: number; message?: string }
      if (!res.ok) throw new FlowhouseError(res.status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', `subject "${subject}" version ${opts.version}: the registry answered ${res.status}${body.message ? `: ${body.message}` : ''}`)
      const origin = `subject "${subject}" version ${body.version ?? opts.version} (schema id ${body.id ?? '?'})`
      if (body.schemaType === undefined || body.schemaType === 'AVRO') {
        process.stdout.write(typeboxModuleOf(body.schema ?? '', origin))
        return
      }
      if (typeof body.id !== 'number') throw new FlowhouseError('BAD_REQUEST', `subject "${subject}": the registry's answer has no schema id`)
      const read = await schemaFields({ url, ...(user === undefined ? {} : { auth: { username: user, password: setting('SCHEMA_REGISTRY_PASSWORD') ?? '' } }) }, body.id).catch((error: unknown) => {
        throw new FlowhouseError('BAD_REQUEST', `${origin}: the ${body.schemaType} schema cannot be read: ${messageOf(error)}`)
      })
      process.stdout.write(typeboxModuleOfFields(read.fields, read.name, `${origin}, ${body.schemaType}`))
    })
}
