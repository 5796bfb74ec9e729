/**
 * What a stream consumer keeps per assigned partition (consumer.ts), and the status it reports: the batch filling, the
 * pending range being re-formed, the count of failed deliveries, and the section that orders
 * the partition's batch work.
 */
import { PartitionBatch } from '../delivery/batch.ts'
import type { PendingRange } from '../delivery/pending.ts'

export interface ConsumerStatus {
  groupId: string
  topic: string
  /** True once the consumer joined its group and got an assignment. */
  joined: boolean
  /** Partitions currently assigned to this member. */
  partitions: number[]
  /** Last error that stopped or restarted the consumer, if any. */
  lastError?: string
}

export class PartitionState {
  batch = new PartitionBatch()
  /** Highest offset added to a batch since the last (re)assignment; -1 for none. */
  lastSeen = -1
  /** Boundary of a range that was marked pending before a crash or a failed commit. */
  pending: PendingRange | undefined
  initialized = false
  /** After a failed flush: the offset consumption resumes at; other offsets are stale until then. */
  resumeAt: number | undefined
  heartbeat: (() => Promise<void>) | undefined
  /** Counts failed deliveries: a batch or message taken before a failure belongs to a dropped range. */
  epoch = 0
  private chain: Promise<unknown> = Promise.resolve()

  constructor(readonly partition: number) {}

  /** Runs `fn` after everything queued before it on this partition. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn)
    this.chain = next.catch(() => undefined)
    return next
  }
}
