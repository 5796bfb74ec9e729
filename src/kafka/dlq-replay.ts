/**
 * Reading and re-ingesting a pipeline's dead letters (`flowhouse dlq peek|replay`, `/api/dlq`).
 *
 * Replay, after the cause was fixed (schema, transform, constraint, table): each selected entry's
 * record is produced to the pipeline's ingest topic as a one-record JSON array with the headers
 * of dlq.ts (its original topic/partition/offset, and the DLQ entry it comes from), then the
 * entry is noted in the ledger topic `<pipeline>.dlq.replayed` (compacted, key
 * `<dlq partition>:<dlq offset>`). A later replay skips noted entries, so nothing is consumed
 * or counted twice; `force` replays them again, and the consumer's replay deduplication token
 * (dlq.ts) still keeps the table from getting a row twice. A crash between the produce and the
 * ledger note is covered the same way. A transform-stage entry whose record was written to the
 * pipeline's own table anyway carries SKIP_TABLE_HEADER, so the replay writes only the
 * transform's outputs.
 */
import type { Kafka, Message } from 'kafkajs'
import { FlowhouseError } from '../errors.ts'
import { DLQ_HEADER, SKIP_TABLE_HEADER, dlqPredicate, notReplayable, parseDlqEntry, REPLAY_OF_HEADER, type DlqFilter, type StoredDlqEntry } from './dlq.ts'
import type { RecordProducer } from './producer.ts'
import { readTopicSnapshot } from './read.ts'

/** Messages produced per send while replaying. @default 500 */
const REPLAY_CHUNK = 500

/** The DLQ topic of a pipeline (IngestPipeline: `<name>.dlq`). */
export const dlqTopicOf = (pipeline: string): string => `${pipeline}.dlq`
/** The ledger of replayed entries of a pipeline. */
export const replayLedgerOf = (pipeline: string): string => `${pipeline}.dlq.replayed`

export interface PeekDlqOptions extends DlqFilter {
  /** Most entries returned: the newest ones that match, in offset order. @default 20 */
  limit?: number
}

/**
 * The dead letters of `pipeline` that match, newest `limit` of them.
 * @returns `{ total, matched, entries }`: entries in the topic, entries matching, the entries shown.
 * @throws FlowhouseError NOT_FOUND when the pipeline has no DLQ topic; BAD_REQUEST for a bad filter.
 */
export async function peekDlq(kafka: Kafka, pipeline: string, o: PeekDlqOptions = {}): Promise<{ total: number; matched: number; entries: StoredDlqEntry[] }> {
  const match = dlqPredicate(o)
  const all = await readEntries(kafka, pipeline)
  const matched = all.filter(match)
  return { total: all.length, matched: matched.length, entries: matched.slice(-(o.limit ?? 20)) }
}

async function readEntries(kafka: Kafka, pipeline: string): Promise<StoredDlqEntry[]> {
  const messages = await readTopicSnapshot(kafka, dlqTopicOf(pipeline)).catch((error: unknown) => {
    if (error instanceof FlowhouseError && error.code === 'NOT_FOUND') throw new FlowhouseError('NOT_FOUND', `pipeline "${pipeline}" has no dead-letter topic "${dlqTopicOf(pipeline)}" (unknown pipeline, or deadLetterQueue: false)`, { context: { pipeline } })
    throw error
  })
  return messages.flatMap((m) => parseDlqEntry(m.value, m) ?? [])
}

export interface ReplayDlqOptions extends DlqFilter {
  /** Replay entries the ledger says were replayed already. @default false */
  force?: boolean
  /** Report what would be replayed without producing anything. @default false */
  dryRun?: boolean
}

export interface ReplayDlqResult {
  pipeline: string
  /** Entries in the DLQ topic. */
  total: number
  /** Entries matching the filter. */
  matched: number
  /** Records produced to the ingest topic by this call. */
  replayed: number
  /** Matching entries skipped because an earlier replay sent them (without `force`). */
  alreadyReplayed: number
  /** Matching entries that cannot be replayed, counted by reason (notReplayable). */
  notReplayable: Record<string, number>
}

/**
 * Re-ingests the matching dead letters of `pipeline` through its ingest topic (module doc).
 * @throws FlowhouseError NOT_FOUND without a DLQ or ingest topic; BAD_REQUEST for a bad filter;
 *   kafkajs errors when the broker refuses (entries produced before that are in the ledger).
 */
export async function replayDlq(kafka: Kafka, producer: RecordProducer, pipeline: string, o: ReplayDlqOptions = {}): Promise<ReplayDlqResult> {
  const match = dlqPredicate(o)
  const admin = kafka.admin()
  await admin.connect()
  const ledger = replayLedgerOf(pipeline)
  try {
    const topics = new Set(await admin.listTopics())
    if (!topics.has(pipeline)) throw new FlowhouseError('NOT_FOUND', `pipeline "${pipeline}" has no ingest topic (start the daemon with its module first)`, { context: { pipeline } })
    if (!topics.has(ledger)) {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: ledger, numPartitions: 1, replicationFactor: -1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] })
    }
  } finally {
    await admin.disconnect()
  }
  const entries = await readEntries(kafka, pipeline)
  const done = new Set((await readTopicSnapshot(kafka, ledger)).map((m) => m.key))
  const result: ReplayDlqResult = { pipeline, total: entries.length, matched: 0, replayed: 0, alreadyReplayed: 0, notReplayable: {} }
  const selected: StoredDlqEntry[] = []
  for (const entry of entries) {
    if (!match(entry)) continue
    result.matched++
    const why = notReplayable(entry)
    if (why) {
      result.notReplayable[why] = (result.notReplayable[why] ?? 0) + 1
      continue
    }
    if (!o.force && done.has(ledgerKey(entry))) {
      result.alreadyReplayed++
      continue
    }
    selected.push(entry)
  }
  if (o.dryRun) return { ...result, replayed: selected.length }
  for (let i = 0; i < selected.length; i += REPLAY_CHUNK) {
    const chunk = selected.slice(i, i + REPLAY_CHUNK)
    await producer.send(pipeline, chunk.map((e) => replayMessage(e, pipeline)))
    await producer.send(ledger, chunk.map((e) => ({ key: ledgerKey(e), value: JSON.stringify({ replayedAt: new Date().toISOString(), of: replayOf(e) }) })))
    result.replayed += chunk.length
  }
  return result
}

const ledgerKey = (e: StoredDlqEntry): string => `${e.dlqPartition}:${e.dlqOffset}`
const replayOf = (e: StoredDlqEntry): string => `${e.topic}:${e.partition}:${e.offset}${e.index === undefined ? '' : `#${e.index}`}`

/** The ingest message re-ingesting one entry: `[record]` with the replay headers (dlq.ts). */
export function replayMessage(e: StoredDlqEntry, pipeline: string): Message {
  return {
    value: JSON.stringify([e.record]),
    headers: { [REPLAY_OF_HEADER]: replayOf(e), [DLQ_HEADER]: `${dlqTopicOf(pipeline)}:${e.dlqPartition}:${e.dlqOffset}`, ...(e.writtenTo ? { [SKIP_TABLE_HEADER]: e.writtenTo } : {}) },
  }
}
