/**
 * The pending mark of a partition batch (DESIGN.md "Delivery"). Before inserting the batch that
 * covers offsets [first, last], the consumer group commits offset `first` with the metadata
 * `flowhouse:pending:<first>-<last>`; the final commit at `last + 1` replaces it. A member that
 * (re)starts on a partition whose committed metadata is still such a mark re-forms exactly that
 * range, so the retried inserts carry the same tokens (token.ts) and ClickHouse drops them.
 */

/** Prefix of the commit metadata that marks a range pending. */
export const PENDING_PREFIX = 'flowhouse:pending:'

/** A range of offsets of one partition, both ends included. */
export interface PendingRange {
  first: number
  last: number
}

/**
 * The commit metadata marking `[first, last]` pending: `flowhouse:pending:<first>-<last>`.
 * Never throws (the offsets come from a non-empty batch).
 */
export function pendingMark(range: PendingRange): string {
  return `${PENDING_PREFIX}${range.first}-${range.last}`
}

/**
 * Reads the pending range from a partition's committed offset, as the group's offset fetch
 * returns it (kafkajs `fetchOffsets`: `offset` a decimal string, `-1` when nothing is committed).
 * @returns the range when `metadata` is `flowhouse:pending:<first>-<last>` with decimal offsets,
 *   `first <= last`, and the committed offset is `first` (the mark belongs to that commit);
 *   otherwise undefined: no commit, no metadata, a final commit, or metadata that is malformed
 *   or not ours. Never throws.
 */
export function parsePending(committed: { offset: string; metadata?: string | null } | undefined): PendingRange | undefined {
  const metadata = committed?.metadata
  if (!metadata?.startsWith(PENDING_PREFIX)) return undefined
  const match = /^(\d+)-(\d+)$/.exec(metadata.slice(PENDING_PREFIX.length))
  if (!match) return undefined
  const first = Number(match[1])
  const last = Number(match[2])
  if (first > last || Number(committed!.offset) !== first) return undefined
  return { first, last }
}
