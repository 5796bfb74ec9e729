/**
 * A partition batch: everything produced from a contiguous range of offsets of one partition,
 * flushed as a unit (rows per table, records per destination topic, dead-letter entries).
 * Deterministic per offset range, so a retry after a crash re-forms the same batch and carries
 * the same ClickHouse deduplication token.
 */
import type { WorkResult } from '../transforms/types.ts'
import type { DlqGroup, DlqSource } from './types.ts'

export interface TableChunk {
  /** JSONEachRow bytes (UTF-8) of each message, in offset order; concatenated once at flush. */
  parts: Uint8Array[]
  rows: number
  /** Bytes of `parts` in total. */
  bytes: number
}

export class PartitionBatch {
  /** First and last offset in the batch; -1 while empty. */
  first = -1
  last = -1
  /** Wall-clock time (ms) the first message was added. */
  openedAt = 0
  /** Smallest Kafka message timestamp in the batch (ms), for end-to-end latency. */
  oldestTimestamp = Number.POSITIVE_INFINITY
  readonly tables = new Map<string, TableChunk>()
  readonly topics = new Map<string, string[]>()
  /** Dead-letter items per source message, in offset order. */
  readonly dlq: DlqGroup[] = []
  /** Dead-letter items in the batch, in total and per stage. */
  dlqCount = 0
  readonly dlqStages = new Map<string, number>()
  records = 0
  filtered = 0
  /** Valid records with fields not in the schema, ignored (WorkResult.unknownFields). */
  unknownFields = 0
  /** Set for a replayed dead letter (`<dlq topic>:<partition>:<offset>`): the batch holds that one message. */
  replay: string | undefined
  /** Filter outcomes by transform destination (WorkResult.filteredBy). */
  readonly filteredBy = new Map<string, number>()
  rows = 0
  /** Bytes of JSONEachRow (UTF-8) bound for tables. */
  bytes = 0
  /**
   * Bytes the batch holds in memory: the table text, the records bound for other streams and the
   * dead-letter texts (entries without one count their raw bytes and reason). The consumer flushes
   * at FLOWHOUSE_BATCH_MAX_BYTES of these, so a batch of dead letters or stream records is bounded
   * by bytes as a batch of rows is.
   */
  heldBytes = 0

  get empty(): boolean {
    return this.first < 0
  }

  /**
   * Adds the processed result of the message at `offset` (offsets must increase); its
   * dead-letter items, if any, are kept with `source` (required when there are some).
   */
  add(offset: number, timestamp: number, result: WorkResult, source?: DlqSource): void {
    if (this.first < 0) {
      this.first = offset
      this.openedAt = Date.now()
    }
    this.last = offset
    this.oldestTimestamp = Math.min(this.oldestTimestamp, timestamp)
    this.records += result.records
    this.filtered += result.filtered
    this.unknownFields += result.unknownFields ?? 0
    for (const [destination, n] of Object.entries(result.filteredBy ?? {})) if (n > 0) this.filteredBy.set(destination, (this.filteredBy.get(destination) ?? 0) + n)
    for (const t of result.tables) {
      let chunk = this.tables.get(t.table)
      if (!chunk) this.tables.set(t.table, (chunk = { parts: [], rows: 0, bytes: 0 }))
      chunk.parts.push(t.rows)
      chunk.rows += t.count
      chunk.bytes += t.rows.byteLength
      this.rows += t.count
      this.bytes += t.rows.byteLength
      this.heldBytes += t.rows.byteLength
    }
    for (const t of result.topics) {
      for (const r of t.records) this.heldBytes += r.length
      const list = this.topics.get(t.topic)
      // A loop, not push(...records): a spread of a million arguments overflows the stack.
      if (list) for (const r of t.records) list.push(r)
      else this.topics.set(t.topic, t.records.slice())
    }
    if (result.dlqText && result.dlqText.texts.length > 0) {
      this.dlq.push({ source: source!, time: new Date().toISOString(), items: [], texts: result.dlqText.texts })
      this.dlqCount += result.dlqText.texts.length
      for (const text of result.dlqText.texts) this.heldBytes += text.length
      for (const [stage, n] of Object.entries(result.dlqText.stages)) this.dlqStages.set(stage, (this.dlqStages.get(stage) ?? 0) + n)
    }
    if (result.dlq.length > 0) this.deadLetter(result.dlq, source!)
  }

  /** Adds dead-letter items from `source` (a message, or the batch's insert stage). */
  deadLetter(items: DlqGroup['items'], source: DlqSource, time: string = new Date().toISOString()): void {
    this.dlq.push({ source, time, items })
    this.dlqCount += items.length
    for (const item of items) this.heldBytes += (item.raw?.length ?? 0) + item.reason.length
    for (const item of items) this.dlqStages.set(item.stage, (this.dlqStages.get(item.stage) ?? 0) + 1)
  }
}
