/**
 * Stalled partitions (DESIGN.md "Bounded input": a partition without progress fails readiness).
 * A partition is stalled when it has lag and its consumer group's committed offset has not
 * moved for `stallSeconds` (FLOWHOUSE_STALL_SECONDS). The input is each lag collection
 * (src/metrics/lag.ts), which reads the group's commits from the broker, so a partition owned
 * by any member of the group is judged the same way.
 *
 * Each stalled partition sets `flowhouse_partition_stalled{pipeline,partition}` to 1 (0 once it
 * moves again), is logged as an error when it becomes stalled, and fails /ready's `partitions`
 * check with its oldest pending offset (the committed offset: the first one not yet written).
 */
import { metrics } from '../metrics/metrics.ts'
import { stageLog } from '../util/log.ts'

const logger = stageLog('health')

/** One partition as a lag collection sees it (the fields of metrics/lag.ts PartitionLag used here). */
export interface PartitionProgress {
  pipeline: string
  topic: string
  partition: number
  /** Committed offset, null when the group has committed nothing. */
  committed: number | null
  lowWatermark: number
  highWatermark: number
  lag: number
}

/** A stalled partition in /ready's detail. */
export interface StalledPartition {
  pipeline: string
  topic: string
  partition: number
  /** First offset not yet written and committed. */
  oldestPendingOffset: number
  lag: number
  /** Seconds since the committed offset last moved (or since it was first seen). */
  stalledSeconds: number
}

interface Seen {
  committed: number | null
  since: number
  stalled: boolean
  last: PartitionProgress
}

/**
 * Judges partitions stalled from successive lag collections (module doc); the daemon feeds it
 * from the LagCollector and /ready reads `stalled()`. Holds no timers and never throws.
 */
export class StallDetector {
  private readonly seen = new Map<string, Seen>()

  /** @param stallSeconds seconds without a commit, with lag, after which a partition is stalled. */
  constructor(readonly stallSeconds: number) {}

  /**
   * Takes one lag collection at `now` (epoch ms): updates the gauge and logs transitions.
   * Partitions absent from the collection are forgotten (their gauge removed). Never throws.
   */
  observe(partitions: PartitionProgress[], now: number = Date.now()): void {
    const live = new Set<string>()
    for (const p of partitions) {
      const key = `${p.pipeline}\0${p.topic}\0${p.partition}`
      live.add(key)
      let s = this.seen.get(key)
      if (!s || s.committed !== p.committed || p.lag === 0) {
        if (s?.stalled) logger.info({ pipeline: p.pipeline, topic: p.topic, partition: p.partition, committed: p.committed }, 'partition is moving again')
        s = { committed: p.committed, since: now, stalled: false, last: p }
        this.seen.set(key, s)
      }
      s.last = p
      const stalled = p.lag > 0 && now - s.since >= this.stallSeconds * 1000
      if (stalled && !s.stalled) {
        logger.error(
          { pipeline: p.pipeline, topic: p.topic, partition: p.partition, oldestPendingOffset: pendingOf(p), lag: p.lag, stalledSeconds: Math.round((now - s.since) / 1000) },
          `partition has lag and has not committed for ${this.stallSeconds} s (FLOWHOUSE_STALL_SECONDS): consumption is stalled`,
        )
      }
      s.stalled = stalled
      metrics.partitionStalled.set({ pipeline: p.pipeline, partition: String(p.partition) }, stalled ? 1 : 0)
    }
    for (const [key, s] of this.seen) {
      if (live.has(key)) continue
      metrics.partitionStalled.remove({ pipeline: s.last.pipeline, partition: String(s.last.partition) })
      this.seen.delete(key)
    }
  }

  /** Partitions stalled at the last observation, as of `now` (epoch ms). */
  stalled(now: number = Date.now()): StalledPartition[] {
    return [...this.seen.values()]
      .filter((s) => s.stalled)
      .map((s) => ({ pipeline: s.last.pipeline, topic: s.last.topic, partition: s.last.partition, oldestPendingOffset: pendingOf(s.last), lag: s.last.lag, stalledSeconds: Math.round((now - s.since) / 1000) }))
  }
}

function pendingOf(p: PartitionProgress): number {
  return p.committed === null || p.committed < p.lowWatermark ? p.lowWatermark : p.committed
}
