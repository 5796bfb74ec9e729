/**
 * Replay to a schema registry topic (`flowhouse replay --format avro|json-schema|protobuf`): the
 * schema is registered under the subject (or found there when already registered), and every row
 * becomes one Kafka message in Confluent wire format (magic byte 0, 4-byte schema id, payload),
 * encoded by @kafkajs/confluent-schema-registry; Avro with flowhouse's logical types (ISO text →
 * timestamp-millis, `YYYY-MM-DD` → date). Rows are shaped for the encoding first: for Avro missing
 * optional fields become null and integer text a number for long/int; for Protobuf null fields
 * are left out (an Int64 carried as text cannot be encoded as Protobuf int64). Reading and
 * encoding run in this thread.
 */
import { FlowhouseError, messageOf } from '../errors.ts'
import type { AvroType } from '../model/avro.ts'
import { registryClient } from '../transforms/registry.ts'
import type { EncodedMessage } from './encode.ts'
import type { MessageSource } from './message-source.ts'
import { openReader } from './readers.ts'
import type { RowSelection } from './options.ts'
import type { ReplayRecord, ReplayRegistry } from './types.ts'

/**
 * Registers (or finds) the schema and opens the file; each group holds one message per row.
 * @throws FlowhouseError BAD_REQUEST when the registry refuses the schema (e.g. incompatible with
 *   the subject's compatibility level), KAFKA_ERROR (retriable) when it cannot be reached; and the
 *   errors of openReader.
 */
export async function openRegistrySource(file: string, selection: RowSelection, target: ReplayRegistry): Promise<MessageSource & { schemaId: number }> {
  const client = registryClient(target.registry)
  const schema = { type: target.schemaType, schema: target.schema }
  let schemaId: number
  try {
    schemaId = await client.getRegistryIdBySchema(target.subject, schema as never).catch(async () => (await client.register(schema as never, { subject: target.subject })).id)
  } catch (error) {
    const status = (error as { status?: unknown }).status
    const refused = typeof status === 'number' && status >= 400 && status < 500 && !/Error, status 400: /.test(messageOf(error))
    throw new FlowhouseError(refused ? 'BAD_REQUEST' : 'KAFKA_ERROR', `schema registry ${target.registry.url}: cannot register the ${target.schemaType} schema under subject "${target.subject}": ${messageOf(error)}`, { retriable: !refused, cause: error })
  }
  const reader = await openReader(file, selection)
  const shape = shaper(target)
  async function* groups(): AsyncGenerator<EncodedMessage[]> {
    for await (const chunk of reader.chunks()) {
      const out: EncodedMessage[] = []
      for (const record of chunk.records) out.push({ value: await client.encode(schemaId, shape(record)), records: 1 })
      yield out
    }
  }
  const iterator = groups()
  return { totalRows: reader.totalRows, groups: iterator, close: async () => void (await iterator.return(undefined)), schemaId }
}

function shaper(target: ReplayRegistry): (record: ReplayRecord) => unknown {
  if (target.schemaType === 'AVRO') {
    const type = JSON.parse(target.schema) as AvroType
    return (record) => toAvroValue(type, record)
  }
  if (target.schemaType === 'PROTOBUF') return withoutNulls
  return (record) => record
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, withoutNulls(v)]))
}

/** A record's value shaped for `type`: missing optional fields null, integer text for long/int, numbers as text for string. */
function toAvroValue(type: AvroType, value: unknown): unknown {
  if (Array.isArray(type)) return value === null || value === undefined ? null : toAvroValue(type.find((t) => t !== 'null')!, value)
  if (typeof type === 'string') {
    if ((type === 'long' || type === 'int') && typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value)
    if (type === 'string' && (typeof value === 'number' || typeof value === 'boolean')) return String(value)
    return value
  }
  if (type.type === 'record' && typeof value === 'object' && value !== null) {
    const record = value as ReplayRecord
    const fields = type.fields as Array<{ name: string; type: AvroType }>
    return Object.fromEntries(fields.map((f) => [f.name, toAvroValue(f.type, record[f.name])]))
  }
  if (type.type === 'array' && Array.isArray(value)) return value.map((item) => toAvroValue((type as { items: AvroType }).items, item))
  return value
}
