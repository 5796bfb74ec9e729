/**
 * Replays a file into a Kafka topic as JSON_ARRAY messages: each message value is one JSON array
 * of up to `batch` records, the format the daemon's ingest topics carry; or, with `registry`, as
 * one Confluent wire-format Avro message per row (registry-source.ts).
 *
 * Partitioning: messages have no key; message `i` goes to partition `i mod n` of the topic's `n`
 * partitions (explicit round-robin), so every partition gets an equal share and consumer
 * parallelism is used. Messages are grouped into sends of about `sendBytes`; up to `maxInFlight`
 * sends are queued and each starts once the previous one is acknowledged (acks = all), so
 * per-partition order follows file order even when kafkajs retries a produce (send-window.ts).
 * The window overlaps reading and encoding with the request in flight.
 */
import { Partitioners, type Message } from 'kafkajs'
import { FlowhouseError, messageOf } from '../errors.ts'
import { replayKafka, topicPartitions, withAdmin } from './kafka.ts'
import { replayDefaults, type ReplayOptions } from './options.ts'
import { Pacer, pacedBatch } from './pacer.ts'
import { openMessageSource } from './message-source.ts'
import { openRegistrySource } from './registry-source.ts'
import type { EncodedMessage } from './encode.ts'
import { SendWindow, type SendGroup } from './send-window.ts'
import type { ReplayProgress, ReplayResult } from './types.ts'

/**
 * Sends the selected rows of `options.file` to `options.topic` and resolves once every send is
 * acknowledged. Records get ids as described on `RowSelection.idField`.
 *
 * On `signal` abort no new message is sent, in-flight sends are awaited, and the result has
 * `aborted: true`; the acknowledged records are rows `[skip, skip + records)`, so
 * `skip: skip + records` resumes.
 *
 * @returns counts of acknowledged records, messages and value bytes, and the duration in ms.
 * @throws FlowhouseError BAD_REQUEST for invalid options, an unsupported file type or bad skip/limit;
 *   NOT_FOUND when the file or the topic does not exist; DECODE_FAILED when the file cannot be read;
 *   KAFKA_ERROR when the brokers cannot be reached or a send fails after kafkajs retries
 *   (context `records` = records acknowledged before the failure).
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const started = performance.now()
  const settings = resolve(options)
  const selection = { skip: options.skip, limit: options.limit, idField: options.idField }
  const source = options.registry
    ? await openRegistrySource(options.file, selection, options.registry)
    : await openMessageSource({ file: options.file, ...selection, batch: pacedBatch(settings.batch, settings.rate) }, settings.encodeInWorker)
  const kafka = replayKafka(settings.brokers, settings.clientId, options.security)
  let partitions: number[]
  try {
    partitions = await withAdmin(kafka, (admin) => topicPartitions(admin, options.topic))
  } catch (error) {
    await source.close()
    throw error instanceof FlowhouseError ? error : kafkaError(`cannot connect to Kafka at ${settings.brokers.join(',')}`, error, options.topic, 0)
  }
  const producer = kafka.producer({
    idempotent: settings.idempotent,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 8 },
  })
  const progress: ReplayProgress = { records: 0, messages: 0, bytes: 0, total: source.totalRows, elapsedMs: 0 }
  const window = new SendWindow(producer, options.topic, settings.maxInFlight, (group) => {
    progress.records += group.records
    progress.messages += group.messages.length
    progress.bytes += group.bytes
    progress.elapsedMs = performance.now() - started
    options.onProgress?.({ ...progress })
  })
  let aborted = false
  try {
    await producer.connect().catch((error: unknown) => {
      throw kafkaError(`cannot connect a producer to ${settings.brokers.join(',')}`, error, options.topic, 0)
    })
    aborted = await produce(source.groups, window, partitions, settings, options.signal)
  } finally {
    await source.close()
    await window.drain()
    await producer.disconnect().catch(() => undefined)
  }
  if (window.failure !== undefined) throw kafkaError(`replay to topic "${options.topic}" failed`, window.failure, options.topic, progress.records)
  return { records: progress.records, messages: progress.messages, bytes: progress.bytes, durationMs: performance.now() - started, aborted }
}

interface Settings {
  brokers: string[]
  clientId: string
  batch: number
  rate: number | undefined
  maxInFlight: number
  sendBytes: number
  idempotent: boolean
  encodeInWorker: boolean
}

/** Groups encoded messages into sends of about `sendBytes`, paced by `rate`; returns true when aborted. */
async function produce(source: AsyncIterable<EncodedMessage[]>, window: SendWindow, partitions: number[], settings: Settings, signal: AbortSignal | undefined): Promise<boolean> {
  const pacer = settings.rate === undefined ? undefined : new Pacer(settings.rate)
  const groupBytes = pacer === undefined ? settings.sendBytes : 0
  let group: SendGroup = { messages: [], records: 0, bytes: 0 }
  let index = 0
  for await (const encoded of source) {
    for (const { value, records } of encoded) {
      if (pacer !== undefined) await pacer.take(records, signal)
      if (signal?.aborted || window.failure !== undefined) return signal?.aborted === true
      const message: Message = { value: Buffer.from(value.buffer, value.byteOffset, value.byteLength), partition: partitions[index++ % partitions.length]! }
      group.messages.push(message)
      group.records += records
      group.bytes += value.byteLength
      if (group.bytes >= groupBytes) {
        await window.send(group)
        group = { messages: [], records: 0, bytes: 0 }
      }
    }
  }
  if (group.messages.length > 0 && !signal?.aborted) await window.send(group)
  return signal?.aborted === true
}

function resolve(options: ReplayOptions): Settings {
  if (typeof options.topic !== 'string' || options.topic === '') throw new FlowhouseError('BAD_REQUEST', 'topic must be a non-empty string')
  const brokers = options.brokers ?? [...replayDefaults.brokers]
  if (brokers.length === 0) throw new FlowhouseError('BAD_REQUEST', 'brokers must list at least one host:port')
  const settings: Settings = {
    brokers,
    clientId: options.clientId ?? replayDefaults.clientId,
    batch: options.batch ?? replayDefaults.batch,
    rate: options.rate,
    maxInFlight: options.maxInFlight ?? replayDefaults.maxInFlight,
    sendBytes: options.sendBytes ?? replayDefaults.sendBytes,
    idempotent: options.idempotent ?? replayDefaults.idempotent,
    encodeInWorker: options.encodeInWorker ?? replayDefaults.encodeInWorker,
  }
  positiveInteger('batch', settings.batch)
  positiveInteger('maxInFlight', settings.maxInFlight)
  positiveInteger('sendBytes', settings.sendBytes)
  if (settings.rate !== undefined && !(settings.rate > 0 && Number.isFinite(settings.rate))) {
    throw new FlowhouseError('BAD_REQUEST', `rate must be a positive number of records per second, got ${String(settings.rate)}`, { context: { field: 'rate' } })
  }
  return settings
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new FlowhouseError('BAD_REQUEST', `${name} must be a positive integer, got ${String(value)}`, { context: { field: name } })
}

function kafkaError(what: string, cause: unknown, topic: string, records: number): FlowhouseError {
  return new FlowhouseError('KAFKA_ERROR', `${what}: ${messageOf(cause)}`, { retriable: true, cause, context: { topic, records } })
}
