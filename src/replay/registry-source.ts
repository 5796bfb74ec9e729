/**
 * Replay to a schema registry topic (`flowhouse replay --format avro`): the pipeline's Avro schema
 * is registered under the subject (or found there when already registered), and every row becomes
 * one Kafka message in Confluent wire format (magic byte 0, 4-byte schema id, Avro bytes), encoded
 * by @kafkajs/confluent-schema-registry with flowhouse's logical types (ISO text → timestamp-millis,
 * `YYYY-MM-DD` → date). Reading and encoding run in this thread.
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
  const schema = { type: 'AVRO', schema: JSON.stringify(target.schema) } as const
  let schemaId: number
  try {
    schemaId = await client.getRegistryIdBySchema(target.subject, schema as never).catch(async () => (await client.register(schema as never, { subject: target.subject })).id)
  } catch (error) {
    const status = (error as { status?: unknown }).status
    const refused = typeof status === 'number' && status >= 400 && status < 500 && !/Error, status 400: /.test(messageOf(error))
    throw new FlowhouseError(refused ? 'BAD_REQUEST' : 'KAFKA_ERROR', `schema registry ${target.registry.url}: cannot register the Avro schema under subject "${target.subject}": ${messageOf(error)}`, { retriable: !refused, cause: error })
  }
  const reader = await openReader(file, selection)
  const type = target.schema
  async function* groups(): AsyncGenerator<EncodedMessage[]> {
    for await (const chunk of reader.chunks()) {
      const out: EncodedMessage[] = []
      for (const record of chunk.records) out.push({ value: await client.encode(schemaId, toAvroValue(type, record)), records: 1 })
      yield out
    }
  }
  const iterator = groups()
  return { totalRows: reader.totalRows, groups: iterator, close: async () => void (await iterator.return(undefined)), schemaId }
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
