/**
 * The delivery protocol of one partition batch (DESIGN.md "Delivery": offsets are committed only
 * after the ClickHouse inserts and the dead-letter writes are acknowledged; a batch retried after
 * a crash carries the same deduplication token). Flushing a batch covering offsets [first, last]:
 *   1. commit offset `first` with metadata `flowhouse:pending:<first>-<last>` (pending.ts);
 *   2. insert each table's rows with token `<table>:<topic>:<partition>:<first>-<last>`, or
 *      `<table>:replay:<entry>` for a replayed dead letter (token.ts); rows ClickHouse refused
 *      join the batch's dead letters at stage `insert`;
 *   3. produce the records bound for other streams (acks = all);
 *   4. send the dead-letter entries (acks = all), or, with the dead-letter queue off, count them
 *      and log a warning;
 *   5. count the batch's outcomes, then commit offset `last + 1` (no metadata).
 * After a crash, the group resumes at `first`; the pending mark makes the first batch end at
 * `last` again, so the inserts repeat with the same tokens and ClickHouse drops them as
 * duplicates. Nothing is committed before it is written.
 *
 * The steps run over `DeliveryPort`, which the Kafka consumer implements with the group's offset
 * commits, ClickHouse inserts and the producer: the protocol opens no connection itself.
 */
import { metrics } from '../metrics/metrics.ts'
import { failpoint, failpointsArmed } from '../util/failpoints.ts'
import { BytePool, concatInto } from '../util/lines.ts'
import type { PartitionBatch } from './batch.ts'
import { pendingMark } from './pending.ts'
import type { SinkResult } from './sink.ts'
import { dedupToken, replayToken } from './token.ts'
import type { DlqGroup } from './types.ts'

/** Insert bodies, reused across batches (a batch's rows are copied into one body at flush). */
const bodies = new BytePool()

/** The Kafka and ClickHouse side of one partition's delivery. Each call rejects when its write was not acknowledged. */
export interface DeliveryPort {
  /** Commits `offset` (the next offset to consume) of `partition` in the consumer group with `metadata`; null clears it. */
  commit(partition: number, offset: number, metadata: string | null): Promise<void>
  /**
   * Inserts `rows` (JSONEachRow, UTF-8 bytes) into `table` with deduplication token `token` (sink.ts
   * `writeTable`: retries retriable errors, isolates the rows ClickHouse cannot store).
   * `count` is the number of rows (lines) in `rows`. `rows` may be reused by the protocol once the
   * returned promise has resolved, so nothing may keep reading it after that.
   * @returns rows written and rows refused, which the protocol dead-letters.
   */
  insert(table: string, rows: Uint8Array, token: string, count: number): Promise<SinkResult>
  /** Produces `records` (each one JSON text) to the stream topic `destination`. */
  produce(destination: string, records: string[]): Promise<void>
  /** Sends the dead-letter entries to the pipeline's DLQ topic; undefined when the pipeline turned the dead-letter queue off. */
  deadLetter: ((groups: DlqGroup[]) => Promise<void>) | undefined
}

/** Where a batch was read from: names for metric labels, tokens and insert-stage dead letters. */
export interface BatchOrigin {
  pipeline: string
  stream: string
  /** The stream's topic and the batch's partition in it. */
  topic: string
  partition: number
}

/** Where the protocol reports a pipeline whose dead-letter queue is off (a pino logger fits). */
export interface DeliveryLog {
  warn(fields: Record<string, unknown>, message: string): void
}

/**
 * Delivers the non-empty batch `b` read from `origin`, in the order written at the top of this
 * file. Metrics: `recordsWritten` per table, `recordsProduced` per destination,
 * `recordsDeadLettered` per stage, `recordsFiltered`, `recordsUnknownFields`, then after the
 * final commit `batches` and `endToEndLatency` (seconds from the batch's oldest message
 * timestamp). Fires the `delivery.*` failpoints (util/failpoints.ts) between the steps.
 * Insert-stage dead letters are added to `b` (source offset `<first>-<last>`).
 * @throws whatever a port call or a failpoint throws; the steps after it do not run, so the
 *   final commit is never made for a batch not fully written. The caller seeks back to `first`
 *   and re-forms the same range (the pending mark stays committed).
 */
export async function deliverBatch(port: DeliveryPort, b: PartitionBatch, origin: BatchOrigin, log: DeliveryLog): Promise<void> {
  const { pipeline, stream, topic, partition } = origin
  await port.commit(partition, b.first, pendingMark(b))
  if (failpointsArmed) await failpoint('delivery.after-pending-commit', { partition, first: b.first, last: b.last, rows: b.rows })
  for (const [table, chunk] of b.tables) {
    const token = b.replay !== undefined ? replayToken(table, b.replay) : dedupToken(table, topic, partition, b.first, b.last)
    const single = chunk.parts.length === 1
    const body = single ? chunk.parts[0]! : concatInto(chunk.parts, bodies.take(chunk.bytes))
    const result = await port.insert(table, body, token, chunk.rows)
    // Only after a completed insert: after an error (an abort among them) the engine may still read it.
    if (!single) bodies.give(body)
    metrics.recordsWritten.inc({ pipeline, table }, result.written)
    if (result.rejected.length > 0) b.deadLetter(result.rejected, { pipeline, stream, topic, partition, offset: `${b.first}-${b.last}` })
  }
  if (failpointsArmed) await failpoint('delivery.after-insert', { partition, first: b.first, last: b.last, rows: b.rows })
  for (const [destination, records] of b.topics) {
    await port.produce(destination, records)
    metrics.recordsProduced.inc({ pipeline, topic: destination }, records.length)
  }
  if (port.deadLetter && b.dlqCount > 0) {
    await port.deadLetter(b.dlq)
  } else if (b.dlqCount > 0) {
    log.warn({ count: b.dlqCount, first: b.dlq[0]?.items[0]?.reason ?? b.dlq[0]?.texts?.[0]?.slice(0, 500) }, 'dead-letter queue is off for this pipeline; bad records are counted and dropped')
  }
  if (failpointsArmed) await failpoint('delivery.after-dlq', { partition, first: b.first, last: b.last, rows: b.rows, dlq: b.dlqCount })
  for (const [stage, n] of b.dlqStages) metrics.recordsDeadLettered.inc({ pipeline, stage }, n)
  for (const [destination, n] of b.filteredBy) metrics.recordsFiltered.inc({ pipeline, destination }, n)
  if (b.unknownFields > 0) metrics.recordsUnknownFields.inc({ pipeline }, b.unknownFields)
  if (failpointsArmed) await failpoint('delivery.before-final-commit', { partition, first: b.first, last: b.last, rows: b.rows, dlq: b.dlqCount })
  await port.commit(partition, b.last + 1, null)
  metrics.batches.inc({ pipeline })
  if (Number.isFinite(b.oldestTimestamp)) metrics.endToEndLatency.observe({ pipeline }, Math.max(0, Date.now() - b.oldestTimestamp) / 1000)
}
