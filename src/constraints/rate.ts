/**
 * Rate limits: one token bucket per constraint and key (the `group_by` values), from the
 * well-kept `limiter` package. A per-second bucket (starts empty, refills continuously, holds at
 * most one second of events) is chained under a per-minute bucket (starts full) when both
 * limits are set, so a record needs a token from each.
 */
import { TokenBucket } from 'limiter'
import type { RateConfig } from './types.ts'

/** Keys idle for this long are forgotten (their buckets would be full again anyway). @default 120_000 ms */
const IDLE_MS = 120_000

interface Entry {
  bucket: TokenBucket
  usedAt: number
}

export class RateBuckets {
  private readonly buckets = new Map<string, Entry>()
  private sweptAt = Date.now()

  /**
   * @param startFull whether a new key's per-second bucket starts with a full second of tokens
   *   (the ingest API admits a first burst) or empty (the consumer path ramps up smoothly).
   */
  constructor(
    readonly config: RateConfig,
    private readonly startFull = false,
  ) {}

  /** Largest number of tokens one request may take at once. */
  get burst(): number {
    return Math.max(1, Math.floor(this.config.max_events_per_second ?? this.config.max_events_per_minute ?? 1))
  }

  private bucket(key: string): TokenBucket {
    const now = Date.now()
    if (now - this.sweptAt > IDLE_MS) {
      for (const [k, e] of this.buckets) if (now - e.usedAt > IDLE_MS) this.buckets.delete(k)
      this.sweptAt = now
    }
    let entry = this.buckets.get(key)
    if (!entry) {
      const { max_events_per_second: perSecond, max_events_per_minute: perMinute } = this.config
      let parent: TokenBucket | undefined
      if (perMinute !== undefined) {
        parent = new TokenBucket({ bucketSize: perMinute, tokensPerInterval: perMinute, interval: 'minute' })
        parent.content = perMinute
      }
      const bucket =
        perSecond !== undefined
          ? new TokenBucket({ bucketSize: Math.max(1, perSecond), tokensPerInterval: perSecond, interval: 'second', ...(parent ? { parentBucket: parent } : {}) })
          : parent!
      if (this.startFull) bucket.content = bucket.bucketSize
      entry = { bucket, usedAt: now }
      this.buckets.set(key, entry)
    }
    entry.usedAt = now
    return entry.bucket
  }

  /** Takes `count` tokens now if they are there. @returns whether they were taken. */
  tryTake(key: string, count = 1): boolean {
    return this.bucket(key).tryRemoveTokens(count)
  }

  /** Milliseconds until `count` tokens are available for `key` (0 = now). */
  waitMs(key: string, count = 1): number {
    return this.bucket(key).getWaitTime(Math.min(count, this.burst))
  }

  /**
   * Takes `count` tokens, waiting as long as needed, in chunks no larger than the burst.
   * @returns milliseconds spent waiting.
   */
  async take(key: string, count: number, between?: () => Promise<void>): Promise<number> {
    const bucket = this.bucket(key)
    if (bucket.tryRemoveTokens(count)) return 0
    const started = performance.now()
    let left = count
    while (left > 0) {
      const chunk = Math.min(left, this.burst)
      await bucket.removeTokens(chunk)
      left -= chunk
      if (between) await between()
    }
    return performance.now() - started
  }

  /** Number of keys with a live bucket. */
  get keys(): number {
    return this.buckets.size
  }
}
