/**
 * ClickHouse deduplication tokens of partition batches (DESIGN.md "Delivery": batches are
 * deterministic per partition, so a batch retried after a crash carries the same
 * `insert_deduplication_token` and ClickHouse drops the duplicate).
 */

/**
 * The deduplication token of a partition batch: `<table>:<topic>:<partition>:<first>-<last>`
 * (contract "Delivery": a retried batch carries the same token).
 * @param firstOffset first Kafka offset of the batch (kafkajs gives offsets as strings).
 * @throws RangeError when the partition is not a non-negative integer, an offset is not an
 *   integer, or first > last (programmer errors).
 */
export function dedupToken(table: string, topic: string, partition: number, firstOffset: string | number | bigint, lastOffset: string | number | bigint): string {
  if (!Number.isInteger(partition) || partition < 0) throw new RangeError(`partition must be a non-negative integer, got ${partition}`)
  const first = String(firstOffset)
  const last = String(lastOffset)
  if (!/^\d+$/.test(first) || !/^\d+$/.test(last)) throw new RangeError(`offsets must be non-negative integers, got ${first}-${last}`)
  if (BigInt(first) > BigInt(last)) throw new RangeError(`first offset ${first} is after last offset ${last}`)
  return `${table}:${topic}:${partition}:${first}-${last}`
}

/**
 * The deduplication token of a replayed dead letter's batch: `<table>:replay:<entry>`, where
 * `entry` is the dead letter's coordinates `<dlq topic>:<partition>:<offset>` (the
 * `flowhouse-dlq` header, see kafka/dlq.ts). It names the entry, not the ingest offsets, so the
 * same entry replayed twice is written once. Never throws.
 */
export function replayToken(table: string, entry: string): string {
  return `${table}:replay:${entry}`
}
