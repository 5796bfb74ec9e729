/**
 * Decoding one message of a schema registry pipeline (format `{ schemaRegistry }`): a Confluent
 * wire-format value (magic byte 0, 4-byte big-endian schema id, Avro / Protobuf / JSON Schema
 * payload) decoded with @kafkajs/confluent-schema-registry, which fetches each schema id once and
 * caches it. One client per registry (URL, credentials and TLS) per worker thread.
 *
 * | outcome | when | errorType (stage `decode`) |
 * | one record | the payload decodes | (validated next, like a JSON record) |
 * | dead letter | shorter than the 5-byte header, or the first byte is not 0 | `invalid_magic_byte` |
 * | dead letter | the registry answers 404 for the schema id (Confluent error 40403) | `unknown_schema_id` |
 * | dead letter | the registry's schema cannot be parsed | `unusable_schema` |
 * | dead letter | the bytes do not decode with the schema (truncated, trailing data, a bad union index ...) | `invalid_payload` |
 * | dead letter | the decoded record nests deeper than FLOWHOUSE_MAX_DEPTH | `max_depth_exceeded` |
 * | retry | the registry cannot be reached, or answers anything but the schema or 404 (5xx, 429, 401 ...) | none: the partition waits |
 *
 * Reasons name the schema id and, when the pipeline declares one, the subject.
 */
import { Agent } from 'node:https'
import srModule from '@kafkajs/confluent-schema-registry'
import type { DlqErrorType } from '../model/dlq.ts'
import type { SchemaRegistryFormat } from '../model/types.ts'
import { messageOf } from '../errors.ts'
import { AVRO_LOGICAL_TYPES, avroTypeHook } from './avro-types.ts'
import { rawFields, type Decoded } from './decode.ts'
import { avroFields, jsonSchemaFields, protobufFields, type AvroType, type ProtoMessage, type WriterFields } from './writer-fields.ts'
import { toPlain, TooDeep } from './normalize.ts'
import { withWellKnownTypes, type ProtoRoot } from './protobuf-types.ts'
import type { WorkBounds } from './types.ts'

// CommonJS package: under NodeNext its exports are on the default import.
const { SchemaRegistry, SchemaType } = srModule
type Client = InstanceType<typeof SchemaRegistry>
type AvroOptions = NonNullable<Extract<ConstructorParameters<typeof SchemaRegistry>[1], { AVRO?: unknown }>['AVRO']>

/** A decoded message, or a registry that cannot answer now (retry the message later, dead-letter nothing). */
export type RegistryDecoded = Decoded | { ok: 'retry'; reason: string }

/** Registry requests are retried this much inside the client before the message is handed back as retriable. */
const CLIENT_RETRY = { retries: 1, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 }

const CLIENT_ID = 'flowhouse'

const clients = new Map<string, Client>()

/** The client of `format` in this thread (created on first use); options as in registryOptions(). */
export function registryClient(format: SchemaRegistryFormat): Client {
  const key = JSON.stringify([format.url, format.auth ?? null, format.tls ?? null])
  let client = clients.get(key)
  if (!client) clients.set(key, (client = new SchemaRegistry(...registryOptions(format))))
  return client
}

/** Constructor arguments of a SchemaRegistry client for `format`: host, basic auth, TLS (an https Agent), short retries, flowhouse's Avro logical types, JSON Schemas compiled without strict mode or format checks. */
export function registryOptions(format: SchemaRegistryFormat): ConstructorParameters<typeof SchemaRegistry> {
  const auth = format.auth ? { username: format.auth.username, password: format.auth.password } : undefined
  return [
    { host: format.url.replace(/\/+$/, ''), clientId: CLIENT_ID, retry: CLIENT_RETRY, ...(auth ? { auth } : {}), ...(format.tls ? { agent: new Agent({ keepAlive: true, ...format.tls }) } : {}) },
    {
      // avsc's own LogicalType subclasses and 64-bit long (avro-types.ts), typed there without
      // avsc's declarations.
      [SchemaType.AVRO]: { logicalTypes: AVRO_LOGICAL_TYPES as unknown as NonNullable<AvroOptions['logicalTypes']>, typeHook: avroTypeHook as unknown as NonNullable<AvroOptions['typeHook']> },
      // The library compiles each JSON Schema with a fresh ajv in strict mode, which refuses the
      // schema (and so every message) over an unknown format (`date-time` without ajv-formats) or an
      // annotation keyword producers add (`connect.index`, `javaType`). The writer schema checks
      // structure; the pipeline schema, validated next, checks formats.
      [SchemaType.JSON]: { strict: false, validateFormats: false },
    },
  ]
}

/** A schema as the registry client caches it: its type and the library's parsed form. */
type CachedSchema = NonNullable<ReturnType<Client['cache']['getSchema']>>

/** The top-level fields of a cached writer schema (writer-fields.ts); Protobuf: the message the library decodes with. */
function fieldsOf(entry: CachedSchema): WriterFields {
  const schema: unknown = entry.schema
  switch (entry.type) {
    case SchemaType.AVRO:
      return avroFields(schema as AvroType)
    case SchemaType.PROTOBUF:
      return protobufFields((schema as { message: ProtoMessage }).message)
    case SchemaType.JSON:
      return jsonSchemaFields((schema as { validate: { schema: unknown } }).validate.schema)
    default:
      return undefined
  }
}

/**
 * The writer schema of a Confluent wire-format `value` whose schema id the client of `format` has
 * fetched already (decodeRegistryMessage did): its id, and a function reading its top-level fields
 * (writer-fields.ts) for Avro, Protobuf and JSON Schema.
 * @returns undefined when the value has no header or the schema was not fetched.
 */
export function writerOf(format: SchemaRegistryFormat, value: Uint8Array): { id: number; fields: () => WriterFields } | undefined {
  if (value.length < 5) return undefined
  const id = Buffer.from(value.buffer, value.byteOffset, value.byteLength).readInt32BE(1)
  const entry = registryClient(format).cache.getSchema(id)
  return entry ? { id, fields: () => fieldsOf(entry) } : undefined
}

/**
 * Fetches schema id `id` from `format`'s registry and reads it as decoding would: its type
 * (`AVRO`, `PROTOBUF`, `JSON`), a name for it (the Avro record's or Protobuf message's name, a JSON
 * Schema's `title`) and its top-level fields (writer-fields.ts).
 * @throws the registry client's error when the schema cannot be fetched or parsed (status 404 for an unknown id).
 */
export async function schemaFields(format: SchemaRegistryFormat, id: number): Promise<{ type: string; name: string | undefined; fields: WriterFields }> {
  const client = registryClient(format)
  await client.getSchema(id)
  const entry = client.cache.getSchema(id)!
  const schema = entry.schema as unknown as { name?: unknown; message?: { name?: unknown; root: ProtoRoot }; validate?: { schema?: { title?: unknown } } }
  if (entry.type === SchemaType.PROTOBUF) withWellKnownTypes(schema.message!.root)
  const name = schema.message?.name ?? schema.validate?.schema?.title ?? schema.name
  return { type: entry.type, name: typeof name === 'string' ? name.split('.').pop() : undefined, fields: fieldsOf(entry) }
}

/** The text of a registry client error without the client id it starts with (`flowhouse - Schema 7 not found.`). */
function registryMessage(error: unknown): string {
  return messageOf(error).replace(`${CLIENT_ID} - `, '')
}

/** The HTTP status of a registry client error (mappersmith's ResponseError), if it is one. */
function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status
  return typeof status === 'number' ? status : undefined
}

/**
 * Decodes `value` through `format`'s registry into one record (plain JSON, normalize.ts). Never
 * throws; every failure is a dead-letter item or a retry (see the table above).
 */
export async function decodeRegistryMessage(format: SchemaRegistryFormat, value: Uint8Array, bounds: WorkBounds): Promise<RegistryDecoded> {
  const subject = format.subject === undefined ? '' : ` (subject "${format.subject}")`
  const dead = (errorType: DlqErrorType, reason: string): Decoded => ({ ok: false, item: { stage: 'decode', errorType, reason, ...rawFields(value, bounds.rawKeepBytes, true) } })
  if (value.length < 5) return dead('invalid_magic_byte', `message is ${value.length} bytes, shorter than the 5-byte Confluent wire-format header (magic byte 0, 4-byte schema id)${subject}`)
  if (value[0] !== 0) return dead('invalid_magic_byte', `message starts with byte ${value[0]} (0x${value[0]!.toString(16).padStart(2, '0')}), not the magic byte 0 of the Confluent wire format${subject}`)
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  const id = bytes.readInt32BE(1)
  const client = registryClient(format)
  try {
    await client.getSchema(id)
  } catch (error) {
    const status = statusOf(error)
    if (status === 404) return dead('unknown_schema_id', `schema id ${id}${subject} is not in the registry (it answered 404: ${registryMessage(error)})`)
    // No answer (the client reports a connection error as status 400 with the socket error as
    // text), 5xx, 429, or 401/403 (a credential fixed outside): waiting may heal it, dead-lettering would lose the messages.
    if (status !== undefined) return { ok: 'retry', reason: `schema registry did not serve schema id ${id}${subject}: ${registryMessage(error)}` }
    return dead('unusable_schema', `schema id ${id}${subject}: the registry's schema cannot be used: ${messageOf(error)}`)
  }
  const entry = client.cache.getSchema(id)
  const type = entry?.type ?? 'schema'
  if (entry?.type === SchemaType.PROTOBUF) withWellKnownTypes((entry.schema as unknown as { message: { root: ProtoRoot } }).message.root)
  let decoded: unknown
  try {
    decoded = await client.decode(bytes)
  } catch (error) {
    return dead('invalid_payload', `schema id ${id}${subject}: the ${type} payload does not decode: ${messageOf(error)}`)
  }
  try {
    return { ok: true, records: [toPlain(decoded, bounds.maxDepth)], dlq: [] }
  } catch (error) {
    if (error instanceof TooDeep) return dead('max_depth_exceeded', `schema id ${id}${subject}: ${error.message} (FLOWHOUSE_MAX_DEPTH=${bounds.maxDepth})`)
    return dead('invalid_payload', `schema id ${id}${subject}: the decoded ${type} value cannot be made JSON: ${messageOf(error)}`)
  }
}
