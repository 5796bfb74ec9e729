/**
 * Dead-letter entries. Each entry is one Kafka message on `<pipeline>.dlq` whose value is
 * JSON (DESIGN.md "Dead-letter queue"):
 * `{ pipeline, stream, topic, partition, offset, index?, stage, errorType, reason, record?, raw?, time }`.
 * The message key is `<topic>:<partition>:<offset>` so entries of one source message stay together.
 */
import type { Message } from 'kafkajs'
import { FlowhouseError } from '../errors.ts'
import type { DlqItem } from '../transforms/types.ts'

export interface DlqEntry extends DlqItem {
  pipeline: string
  stream: string
  topic: string
  partition: number
  /** Source offset, as Kafka prints it (a decimal string). */
  offset: string
  /** ISO-8601 time the entry was made. */
  time: string
}

export function dlqEntry(item: DlqItem, source: { pipeline: string; stream: string; topic: string; partition: number; offset: string }): DlqEntry {
  return { ...source, ...item, time: new Date().toISOString() }
}

export function dlqMessage(entry: DlqEntry): Message {
  return { key: `${entry.topic}:${entry.partition}:${entry.offset}`, value: JSON.stringify(entry) }
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
