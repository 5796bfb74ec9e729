/**
 * Consumer lag per topic and partition, from the group's committed offsets and the partitions'
 * high watermarks (kafkajs admin `fetchTopicOffsets` + `fetchOffsets`), collected periodically
 * into `flowhouse_consumer_lag_messages`, `flowhouse_consumer_committed_offset` and
 * `flowhouse_topic_high_watermark` (labels pipeline, topic, partition: bounded by the streams'
 * parallelism, never a record key).
 */
import type { Admin } from 'kafkajs'
import { Periodic } from '../util/periodic.ts'
import { stageLog } from '../util/log.ts'
import { metrics } from './metrics.ts'

const logger = stageLog('metrics')

/** A consumer group reading one topic, as the daemon runs it. */
export interface LagTarget {
  /** Pipeline label (the pipeline owning the stream, or the stream name). */
  pipeline: string
  groupId: string
  topic: string
}

/** Lag of one partition. Offsets are numbers (exact below 2^53). */
export interface PartitionLag {
  pipeline: string
  topic: string
  partition: number
  /** Offset the next produced message gets. */
  highWatermark: number
  /** Earliest offset still in the log. */
  lowWatermark: number
  /** Next offset the group will read; null when the group committed nothing yet. */
  committed: number | null
  /** Messages after the committed offset (all retained messages when nothing is committed). */
  lag: number
}

/**
 * Lag of one partition. A group without a committed offset (kafkajs gives `-1`) starts from the
 * earliest offset, so its lag is every retained message; a committed offset older than the log
 * start (retention deleted it) counts from the log start.
 * @param high,low,committed offsets as kafkajs returns them (decimal strings).
 * @returns messages not yet consumed, >= 0.
 */
export function partitionLag(high: string, low: string, committed: string): number {
  const h = Number(high)
  const l = Number(low)
  const c = Number(committed)
  const from = c < 0 || c < l ? l : c
  return Math.max(0, h - from)
}

/**
 * Fetches the lag of every partition of `target.topic` for `target.groupId`.
 * @throws the kafkajs error when the topic or the group cannot be read.
 */
export async function fetchLag(admin: Admin, target: LagTarget): Promise<PartitionLag[]> {
  const [watermarks, groupOffsets] = await Promise.all([
    admin.fetchTopicOffsets(target.topic),
    admin.fetchOffsets({ groupId: target.groupId, topics: [target.topic] }),
  ])
  const committed = new Map((groupOffsets.find((t) => t.topic === target.topic)?.partitions ?? []).map((p) => [p.partition, p.offset]))
  return watermarks
    .map((w) => {
      const c = committed.get(w.partition) ?? '-1'
      return {
        pipeline: target.pipeline,
        topic: target.topic,
        partition: w.partition,
        highWatermark: Number(w.high),
        lowWatermark: Number(w.low),
        committed: Number(c) < 0 ? null : Number(c),
        lag: partitionLag(w.high, w.low, c),
      }
    })
    .sort((a, b) => a.partition - b.partition)
}

type Labels = { pipeline: string; topic: string; partition: string }

/** Periodically refreshes the lag gauges for the targets the daemon runs. */
export class LagCollector {
  private readonly task: Periodic
  /** Series set by the last successful collection of each target, by `<groupId>/<topic>`. */
  private readonly series = new Map<string, Labels[]>()

  /**
   * @param admin a connected kafkajs admin client (owned by the caller).
   * @param targets called at each collection: the consumer groups currently running.
   * @param intervalMs collection period in milliseconds (FLOWHOUSE_METRICS_INTERVAL_MS).
   * @param onCollect called with every round's partitions (the stall detector); must not throw.
   */
  constructor(
    private readonly admin: Admin,
    private readonly targets: () => LagTarget[],
    intervalMs: number,
    private readonly onCollect?: (partitions: PartitionLag[]) => void,
  ) {
    this.task = new Periodic('consumer-lag', intervalMs, () => this.collect().then(() => undefined))
  }

  /** Starts collecting (first collection right away). Idempotent. */
  start(): this {
    this.task.start()
    return this
  }

  /** Stops collecting; the gauges keep their last values. Idempotent. */
  stop(): Promise<void> {
    return this.task.stop()
  }

  /**
   * Collects once and updates the gauges. A target that fails keeps its previous values (the
   * failure is logged); series of targets that are no longer running are removed.
   * @returns the lag of every partition collected in this round.
   */
  async collect(): Promise<PartitionLag[]> {
    const targets = this.targets()
    const results = await Promise.allSettled(targets.map((t) => fetchLag(this.admin, t)))
    const out: PartitionLag[] = []
    const live = new Set<string>()
    targets.forEach((target, i) => {
      const key = `${target.groupId}/${target.topic}`
      live.add(key)
      const result = results[i]!
      if (result.status === 'rejected') {
        logger.warn({ groupId: target.groupId, topic: target.topic, err: result.reason }, 'consumer lag not collected')
        return
      }
      for (const labels of this.series.get(key) ?? []) this.remove(labels)
      const set: Labels[] = []
      for (const p of result.value) {
        const labels = { pipeline: p.pipeline, topic: p.topic, partition: String(p.partition) }
        metrics.consumerLag.set(labels, p.lag)
        metrics.topicHighWatermark.set(labels, p.highWatermark)
        if (p.committed !== null) metrics.committedOffset.set(labels, p.committed)
        set.push(labels)
        out.push(p)
      }
      this.series.set(key, set)
    })
    for (const [key, labels] of this.series) {
      if (live.has(key)) continue
      labels.forEach((l) => this.remove(l))
      this.series.delete(key)
    }
    this.onCollect?.(out)
    return out
  }

  private remove(labels: Labels): void {
    metrics.consumerLag.remove(labels)
    metrics.topicHighWatermark.remove(labels)
    metrics.committedOffset.remove(labels)
  }
}
