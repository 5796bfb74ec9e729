/**
 * `flowhouse schema import <subject> [--registry URL] [--version N]`: prints a pipeline module
 * skeleton with the TypeBox schema of a registry subject's Avro schema, so a user can start a
 * module from an existing topic. Avro only (a Protobuf or JSON Schema subject is refused).
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
import type { Command } from 'commander'
import { FlowhouseError } from '../errors.ts'
import { setting } from '../util/environment.ts'

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

function objectOf(fields: Array<{ name: string; type: Avro }>, indent: string, key: boolean): string {
  const inner = `${indent}  `
  const lines = fields.map((field, i) => {
    const name = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(field.name) ? field.name : JSON.stringify(field.name)
    const value = expression(field.type, inner)
    return `${inner}${name}: ${key && i === 0 ? `Key(${value})` : value},`
  })
  return `t.Object({\n${lines.join('\n')}\n${indent}})`
}

/**
 * TypeScript source of a module skeleton for an Avro record schema (see the table above).
 * @throws FlowhouseError BAD_REQUEST when the schema is not an Avro record.
 */
export function typeboxModuleOf(schemaText: string, origin: string): string {
  const schema = JSON.parse(schemaText) as { type?: unknown; name?: unknown; fields?: unknown }
  if (schema.type !== 'record' || !Array.isArray(schema.fields)) throw new FlowhouseError('BAD_REQUEST', `${origin} is not an Avro record schema`)
  const name = typeof schema.name === 'string' ? schema.name.replace(/[^A-Za-z0-9_]/g, '_') : 'Record'
  return [
    `// ${origin}`,
    "import { Key, t, type Static } from 'flowhouse'",
    '',
    '// Key: the first field; move Key() to the field that identifies a record.',
    `export const ${name} = ${objectOf(schema.fields as Array<{ name: string; type: Avro }>, '', true)}`,
    `export type ${name} = Static<typeof ${name}>`,
    '',
  ].join('\n')
}

/** Registers `flowhouse schema import`. */
export function registerSchemaCommands(program: Command): void {
  const schema = program.command('schema').description('schemas of a Confluent-compatible schema registry')
  schema
    .command('import')
    .description("print a TypeBox schema (a pipeline module skeleton) for a registry subject's Avro schema")
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
      if (body.schemaType !== undefined && body.schemaType !== 'AVRO') throw new FlowhouseError('BAD_REQUEST', `subject "${subject}" holds a ${body.schemaType} schema; only Avro can be imported`)
      process.stdout.write(typeboxModuleOf(body.schema ?? '', `subject "${subject}" version ${body.version ?? opts.version} (schema id ${body.id ?? '?'})`))
    })
}
