/**
 * Dead-letter entries. Each entry is one Kafka message on `<pipeline>.dlq` whose value is
 * JSON (DESIGN.md "Dead-letter queue"):
 * `{ pipeline, stream, topic, partition, offset, index?, stage, errorType, reason, record?, raw?, truncated?, rawBytes?, rawSha256?, time }`.
 * The message key is `<topic>:<partition>:<offset>` so entries of one source message stay together.
 *
 * Dead letters always fit (DESIGN.md "Bounded input"): `DlqWriter` reads the DLQ topic's
 * `max.message.bytes` (describeConfigs, cached), splits the entries into produce requests
 * whose record batch stays under it, and shrinks an entry that alone is over it: its record or
 * raw text becomes the first FLOWHOUSE_DLQ_RAW_KEEP_BYTES bytes with `truncated`, `rawBytes`
 * and `rawSha256`, and it keeps its source topic/partition/offset so the message can be re-read.
 * A non-retriable produce error (MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_RECORD)
 * re-reads the limit and splits further; it is never retried as is.
 */
import { createHash } from 'node:crypto'
import kafkajs, { type Admin, type Message } from 'kafkajs'
import { FlowhouseError } from '../errors.ts'
import type { DlqEntry, DlqGroup, DlqSource } from '../delivery/types.ts'
import type { DlqItem } from '../model/dlq.ts'
import { stageLog } from '../util/log.ts'
import { yieldToLoop } from '../util/yield.ts'
import { MESSAGES_PER_SEND, type RecordProducer } from './producer.ts'

const { ConfigResourceTypes } = kafkajs
const logger = stageLog('dlq')

/**
 * One dead-letter entry: `{ ...source, ...item, time }`.
 * @param time ISO-8601 time the entry was made. @default now
 */
export function dlqEntry(item: DlqItem, source: DlqSource, time = new Date().toISOString()): DlqEntry {
  return { ...source, ...item, time }
}

/** The Kafka message of an entry: key `<topic>:<partition>:<offset>`, value its JSON text (no size check: see fitEntry). */
export function dlqMessage(entry: DlqEntry): Message {
  return { key: `${entry.topic}:${entry.partition}:${entry.offset}`, value: JSON.stringify(entry) }
}

/** Bytes reserved per produce request (record batch header, 61 bytes, with a margin). */
const BATCH_OVERHEAD_BYTES = 512
/** Bytes reserved per record (length, attributes, timestamp and offset deltas, key and value lengths: at most 21 bytes as varints). */
const RECORD_OVERHEAD_BYTES = 32
/** Longest reason kept in a shrunk entry, in characters. */
const REASON_KEEP_CHARS = 4_096
/** Kafka's default message.max.bytes (1 MiB + 12), used when the topic config cannot be read. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
/** Entries serialised between two yields to the event loop. */
const ENTRIES_PER_SLICE = 2_000

/** A prepared Kafka message and its size estimate in the record batch. */
interface Sized {
  message: Message
  bytes: number
}

function sizeOf(message: Message): number {
  return Buffer.byteLength(message.key as string) + Buffer.byteLength(message.value as string) + RECORD_OVERHEAD_BYTES
}

/**
 * Shrinks an entry so its message is at most `maxBytes`: the record (or raw text) becomes the
 * first `keepBytes` bytes of its JSON (or UTF-8) text with `truncated`, `rawBytes` (size of the
 * whole) and `rawSha256`; halved again while it is still too large. The source coordinates,
 * stage, errorType and the first 4,096 characters of the reason always stay.
 * @returns the message, at most `maxBytes` whenever the coordinates alone fit.
 */
export function fitEntry(entry: DlqEntry, maxBytes: number, keepBytes: number): Message {
  const first = dlqMessage(entry)
  if (sizeOf(first) <= maxBytes) return first
  const { record, raw, ...rest } = entry
  let whole: Buffer
  if (record !== undefined) whole = Buffer.from(JSON.stringify(record) ?? '')
  else whole = Buffer.from(raw ?? '')
  // A worker already cut the raw text: size and digest describe the original bytes.
  const rawBytes = entry.truncated && entry.rawBytes !== undefined ? entry.rawBytes : whole.length
  const rawSha256 = entry.truncated && entry.rawSha256 !== undefined ? entry.rawSha256 : createHash('sha256').update(whole).digest('hex')
  const reason = rest.reason.length > REASON_KEEP_CHARS ? `${rest.reason.slice(0, REASON_KEEP_CHARS)}…` : rest.reason
  let keep = Math.min(keepBytes, whole.length)
  for (;;) {
    // A multi-byte character cut at the end decodes as U+FFFD.
    const shrunk: DlqEntry = { ...rest, reason, raw: whole.subarray(0, keep).toString('utf8'), truncated: true, rawBytes, rawSha256 }
    const message = dlqMessage(shrunk)
    if (sizeOf(message) <= maxBytes || keep === 0) return message
    keep = Math.floor(keep / 2)
  }
}

/**
 * Headers of a message that re-ingests a dead letter (`flowhouse dlq replay`):
 * - REPLAY_OF_HEADER: the record's original coordinates `<topic>:<partition>:<offset>[#<index>]`;
 * - DLQ_HEADER: the dead letter it came from, `<dlq topic>:<partition>:<offset>`. The consumer
 *   writes such a message in a batch of its own whose deduplication token is
 *   `<table>:replay:<dlq topic>:<partition>:<offset>`, so a replayed entry is written once
 *   however many times it is replayed (within the table's deduplication window).
 */
export const REPLAY_OF_HEADER = 'flowhouse-replay-of'
export const DLQ_HEADER = 'flowhouse-dlq'
/** The pipeline's own table already holds the replayed record (DlqItem.writtenTo): the consumer skips it. */
export const SKIP_TABLE_HEADER = 'flowhouse-replay-skip-table'

/** A dead-letter entry read back from its topic, with where it sits there. */
export interface StoredDlqEntry extends DlqEntry {
  /** Partition and offset of the entry in the DLQ topic. */
  dlqPartition: number
  dlqOffset: string
}

/** Parses a DLQ message value. @returns undefined when it is not a JSON object. */
export function parseDlqEntry(value: string, at: { partition: number; offset: string }): StoredDlqEntry | undefined {
  try {
    const entry = JSON.parse(value) as unknown
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined
    return { ...(entry as DlqEntry), dlqPartition: at.partition, dlqOffset: at.offset }
  } catch {
    return undefined
  }
}

/**
 * Groups sized messages into produce requests of at most `maxBytes` each (sum of record sizes
 * plus the batch overhead) and at most `maxMessages` messages (producer.ts MESSAGES_PER_SEND: one
 * kafkajs send each), keeping their order.
 */
export function splitMessages(messages: Sized[], maxBytes: number, maxMessages = MESSAGES_PER_SEND): Message[][] {
  const out: Message[][] = []
  let chunk: Message[] = []
  let bytes = BATCH_OVERHEAD_BYTES
  for (const m of messages) {
    if (chunk.length > 0 && (bytes + m.bytes > maxBytes || chunk.length >= maxMessages)) {
      out.push(chunk)
      chunk = []
      bytes = BATCH_OVERHEAD_BYTES
    }
    chunk.push(m.message)
    bytes += m.bytes
  }
  if (chunk.length > 0) out.push(chunk)
  return out
}

const NON_RETRIABLE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD'])

/** The Kafka error type of a produce failure, looking through kafkajs wrappers (cause, originalError, errors). */
export function kafkaErrorType(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined
  const e = error as { type?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown[] }
  if (typeof e.type === 'string' && NON_RETRIABLE.has(e.type)) return e.type
  for (const inner of [e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const t = kafkaErrorType(inner, depth + 1)
    if (t) return t
  }
  return typeof e.type === 'string' ? e.type : undefined
}

export interface DlqWriterOptions {
  /** Leading bytes of a record or raw text kept in an entry over the limit. @default 65_536 */
  rawKeepBytes?: number
  /** How long a topic's max.message.bytes is cached, in ms. @default 300_000 */
  limitTtlMs?: number
}

/** Writes dead-letter entries so each produce request fits the DLQ topic's message limit. */
export class DlqWriter {
  private readonly limits = new Map<string, { bytes: number; at: number }>()
  private readonly keepBytes: number
  private readonly ttlMs: number

  constructor(
    private readonly admin: Admin,
    private readonly producer: Pick<RecordProducer, 'send'>,
    options: DlqWriterOptions = {},
  ) {
    this.keepBytes = options.rawKeepBytes ?? 64 * 1024
    this.ttlMs = options.limitTtlMs ?? 300_000
  }

  /**
   * The topic's `max.message.bytes` (describeConfigs; cached). Never throws: when the config
   * cannot be read, Kafka's default (1,048,588) is assumed and logged.
   */
  async maxMessageBytes(topic: string): Promise<number> {
    const cached = this.limits.get(topic)
    if (cached && Date.now() - cached.at < this.ttlMs) return cached.bytes
    let bytes = KAFKA_DEFAULT_MAX_MESSAGE_BYTES
    try {
      const res = await this.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }] })
      const value = Number(res.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue)
      if (Number.isFinite(value) && value > 0) bytes = value
    } catch (error) {
      logger.warn({ topic, err: error, assumed: bytes }, 'could not read max.message.bytes of the dead-letter topic; assuming the Kafka default')
    }
    this.limits.set(topic, { bytes, at: Date.now() })
    return bytes
  }

  /**
   * Produces the entries of `groups` to `topic` in requests that fit its limit, in order;
   * resolves when every one is acknowledged. Serialises in slices that yield to the event loop.
   * An entry's value is `{ ...source, ...item, time }` (see DlqEntry). `heartbeat` (the consumer's, when
   * given) is called after each request so a long send keeps the group membership.
   * @throws the producer's error for retriable failures (the caller retries the batch), or
   *   when even an entry shrunk to its coordinates is refused.
   */
  async send(topic: string, groups: DlqGroup[], heartbeat?: () => Promise<void>): Promise<void> {
    if (!groups.some((g) => g.items.length > 0 || (g.texts?.length ?? 0) > 0)) return
    const limit = await this.maxMessageBytes(topic)
    const maxEntry = limit - BATCH_OVERHEAD_BYTES
    const sized: Sized[] = []
    let made = 0
    for (const { source, time, items, texts } of groups) {
      const key = `${source.topic}:${source.partition}:${source.offset}`
      // `{"pipeline":…,"offset":"…",` + the item's own fields + `,"time":"…"}`: one JSON.stringify per item.
      const head = `${JSON.stringify(source).slice(0, -1)},`
      const tail = `,"time":${JSON.stringify(time)}}`
      const add = (body: string, item: () => DlqItem) => {
        let message: Message = { key, value: head + body + tail }
        let bytes = sizeOf(message)
        if (bytes > maxEntry) {
          message = fitEntry(dlqEntry(item(), source, time), maxEntry, this.keepBytes)
          bytes = sizeOf(message)
        }
        sized.push({ message, bytes })
      }
      for (const text of texts ?? []) {
        if (++made % ENTRIES_PER_SLICE === 0) await yieldToLoop()
        add(text, () => JSON.parse(`{${text}}`) as DlqItem)
      }
      for (const item of items) {
        if (++made % ENTRIES_PER_SLICE === 0) await yieldToLoop()
        add(JSON.stringify(item).slice(1, -1), () => item)
      }
    }
    for (const chunk of splitMessages(sized, limit)) {
      await this.produce(topic, chunk)
      // A large set of entries takes many requests: keep the group membership alive meanwhile.
      await heartbeat?.()
    }
  }

  /** Sends one chunk; on a non-retriable size or record error re-reads the limit and splits. */
  private async produce(topic: string, chunk: Message[]): Promise<void> {
    try {
      await this.producer.send(topic, chunk)
    } catch (error) {
      const type = kafkaErrorType(error)
      if (!type || !NON_RETRIABLE.has(type)) throw error
      this.limits.delete(topic)
      const limit = await this.maxMessageBytes(topic)
      logger.warn({ topic, type, messages: chunk.length, limit }, 'dead-letter produce refused by the broker; splitting and shrinking')
      if (chunk.length > 1) {
        const mid = Math.ceil(chunk.length / 2)
        await this.produce(topic, chunk.slice(0, mid))
        await this.produce(topic, chunk.slice(mid))
        return
      }
      const entry = JSON.parse(chunk[0]!.value as string) as DlqEntry
      const smaller = fitEntry(entry, Math.min(limit - BATCH_OVERHEAD_BYTES, Math.floor(sizeOf(chunk[0]!) / 2)), this.keepBytes)
      if (sizeOf(smaller) >= sizeOf(chunk[0]!)) throw error
      await this.produce(topic, [smaller])
    }
  }
}

/**
 * Whether an entry can be re-ingested through its pipeline, and why not: only entries holding
 * the pipeline's own input record can (validation, constraint, transform errors, and rows its
 * own table refused). @returns undefined when replayable, else the reason.
 */
export function notReplayable(entry: DlqEntry): string | undefined {
  if (entry.stage === 'decode') return 'decode: the message was not a JSON array of records'
  if (entry.record === undefined) return 'no record in the entry'
  if (entry.stage === 'transform' && entry.errorType === 'output_schema') return "transform output_schema: the entry holds a transform's output, not the pipeline's input"
  if (entry.stage === 'insert' && entry.table !== entry.pipeline) return `insert: the entry holds a row of table "${entry.table ?? '?'}", not the pipeline's input`
  return undefined
}

/** Which entries a peek or replay selects. */
export interface DlqFilter {
  /** Only these stages. */
  stages?: string[]
  /** Only entries made at or after this time. */
  since?: Date
  /**
   * Conditions on entry fields, all of which must hold: `field=value` (equal as text) or
   * `field~text` (contains); a field is a top-level key (`errorType`, `reason`, `partition` ...)
   * or a dotted path into the record (`record.country`).
   */
  where?: string[]
}

function fieldOf(entry: DlqEntry, path: string): unknown {
  let value: unknown = entry
  for (const part of path.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined
  return value
}

/**
 * Compiles a filter into a predicate.
 * @throws FlowhouseError BAD_REQUEST for a condition that is neither `field=value` nor `field~text`.
 */
export function dlqPredicate(filter: DlqFilter = {}): (entry: DlqEntry) => boolean {
  const conditions = (filter.where ?? []).map((w) => {
    const m = /^([A-Za-z_][\w.]*)\s*([=~])(.*)$/s.exec(w)
    if (!m) throw new FlowhouseError('BAD_REQUEST', `filter "${w}" must be field=value or field~text (e.g. errorType=schema, reason~amount)`)
    return { path: m[1]!, op: m[2]!, value: m[3]! }
  })
  const since = filter.since?.getTime()
  return (entry) => {
    if (filter.stages?.length && !filter.stages.includes(entry.stage)) return false
    if (since !== undefined && !(Date.parse(entry.time) >= since)) return false
    return conditions.every((c) => {
      const v = fieldOf(entry, c.path)
      const text = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)
      return c.op === '=' ? text === c.value : text.includes(c.value)
    })
  }
}
