/**
 * Rate limits: one token bucket per constraint and key (the `group_by` values).
 *
 * - In-process (the default): buckets of the well-kept `limiter` package. A per-second bucket
 *   (starts empty, refills continuously, holds at most one second of events) is chained under a
 *   per-minute bucket (starts full) when both limits are set, so a record needs a token from each.
 *   Each daemon has its own budget.
 * - Shared (FLOWHOUSE_REDIS_URL set, SharedRates): the same buckets as `bottleneck` limiters
 *   clustered in Redis, so a constraint is one budget across every daemon using that Redis.
 *   A limiter's reservoir holds at most one second (or minute) of events and grows by a tenth
 *   of a second's worth every 100 ms (a minute's sixtieth every second). Limiter ids name the
 *   pipeline, constraint, path (consume | ingest), limits and key, so a changed config starts
 *   fresh buckets. `tryTake` checks then takes, so under contention between daemons it may wait
 *   for a moment instead of refusing.
 */
import Bottleneck from 'bottleneck'
import { Redis } from 'ioredis'
import { TokenBucket } from 'limiter'
import type { RateConfig } from './types.ts'

/** Keys idle for this long are forgotten (their buckets would be full again anyway). @default 120_000 ms */
const IDLE_MS = 120_000
/** Reservoir growth step of a shared per-second limiter, in ms. @default 100 */
const SHARED_STEP_MS = 100

/** One Redis connection shared by the clustered limiters of a daemon. */
export class SharedRates {
  readonly connection: Bottleneck.IORedisConnection
  private readonly client: Redis

  /** @param url a redis:// URL (FLOWHOUSE_REDIS_URL). */
  constructor(url: string) {
    this.client = new Redis(url)
    this.connection = new Bottleneck.IORedisConnection({ client: this.client })
  }

  /** Resolves once Redis answers. @throws the connection error. */
  async ready(): Promise<void> {
    // bottleneck's typings declare ready() but the library exposes a promise.
    await (this.connection as unknown as { ready: Promise<unknown> }).ready
  }

  /** Closes the connection; idempotent. */
  async close(): Promise<void> {
    await this.connection.disconnect(true).catch(() => undefined)
  }
}

/** Where a set of buckets lives when shared: the connection and the id prefix of its limiters. */
export interface SharedScope {
  rates: SharedRates
  /** e.g. `flowhouse:rate:<pipeline>:<constraint>:consume`. */
  id: string
}

interface Backend {
  tryTake(count: number): Promise<boolean>
  waitMs(count: number): Promise<number>
  /** Takes `count` (at most the burst) tokens, waiting as needed. */
  remove(count: number): Promise<void>
  /** Stops background work (a shared limiter's heartbeat). */
  close(): void
}

function localBackend(config: RateConfig, startFull: boolean): Backend {
  const { max_events_per_second: perSecond, max_events_per_minute: perMinute } = config
  let parent: TokenBucket | undefined
  if (perMinute !== undefined) {
    parent = new TokenBucket({ bucketSize: perMinute, tokensPerInterval: perMinute, interval: 'minute' })
    parent.content = perMinute
  }
  const bucket = perSecond !== undefined ? new TokenBucket({ bucketSize: Math.max(1, perSecond), tokensPerInterval: perSecond, interval: 'second', ...(parent ? { parentBucket: parent } : {}) }) : parent!
  if (startFull) bucket.content = bucket.bucketSize
  return {
    tryTake: async (count) => bucket.tryRemoveTokens(count),
    waitMs: async (count) => bucket.getWaitTime(count),
    remove: async (count) => {
      await bucket.removeTokens(count)
    },
    close: () => undefined,
  }
}

function sharedBackend(config: RateConfig, startFull: boolean, scope: SharedScope, key: string): Backend {
  const { max_events_per_second: perSecond, max_events_per_minute: perMinute } = config
  // heartbeatInterval: how often a waiting limiter looks at the shared reservoir (bottleneck's
  // clustered default, 5 s, would let a throttled partition wait seconds for each step).
  const common = { datastore: 'ioredis' as const, connection: scope.rates.connection, clearDatastore: false, timeout: IDLE_MS, maxConcurrent: null, minTime: 0, heartbeatInterval: SHARED_STEP_MS }
  const limits = `${perSecond ?? '-'}s:${perMinute ?? '-'}m`
  let limiter: Bottleneck | undefined
  let minute: Bottleneck | undefined
  if (perMinute !== undefined) {
    limiter = minute = new Bottleneck({ ...common, id: `${scope.id}:${limits}:minute:${key}`, reservoir: perMinute, reservoirIncreaseInterval: 1_000, reservoirIncreaseAmount: perMinute / 60, reservoirIncreaseMaximum: perMinute })
  }
  if (perSecond !== undefined) {
    const second = new Bottleneck({ ...common, id: `${scope.id}:${limits}:second:${key}`, reservoir: startFull ? perSecond : 0, reservoirIncreaseInterval: SHARED_STEP_MS, reservoirIncreaseAmount: (perSecond * SHARED_STEP_MS) / 1_000, reservoirIncreaseMaximum: perSecond })
    if (limiter) second.chain(limiter)
    limiter = second
  }
  const l = limiter!
  const limiters = [l, ...(perMinute !== undefined && perSecond !== undefined ? [minute!] : [])]
  const rate = perSecond ?? perMinute! / 60
  return {
    tryTake: async (count) => {
      if (!(await l.check(count))) return false
      await l.schedule({ weight: count }, async () => undefined)
      return true
    },
    waitMs: async (count) => {
      if (await l.check(count)) return 0
      const have = (await l.currentReservoir()) ?? 0
      return Math.max(1, ((count - have) / rate) * 1_000)
    },
    remove: async (count) => {
      await l.schedule({ weight: count }, async () => undefined)
    },
    close: () => {
      for (const x of limiters) void x.disconnect(false).catch(() => undefined)
    },
  }
}

export class RateBuckets {
  private readonly buckets = new Map<string, { backend: Backend; usedAt: number }>()
  private sweptAt = Date.now()

  /**
   * @param startFull whether a new key's per-second bucket starts with a full second of tokens
   *   (the ingest API admits a first burst) or empty (the consumer path ramps up smoothly).
   * @param shared Redis scope; in-process buckets when absent.
   */
  constructor(
    readonly config: RateConfig,
    private readonly startFull = false,
    private readonly shared?: SharedScope,
  ) {}

  /** Largest number of tokens one request may take at once. */
  get burst(): number {
    return Math.max(1, Math.floor(this.config.max_events_per_second ?? this.config.max_events_per_minute ?? 1))
  }

  /** Whether the buckets are one budget across daemons (Redis). */
  get isShared(): boolean {
    return this.shared !== undefined
  }

  private bucket(key: string): Backend {
    const now = Date.now()
    if (now - this.sweptAt > IDLE_MS) {
      for (const [k, e] of this.buckets) {
        if (now - e.usedAt <= IDLE_MS) continue
        e.backend.close()
        this.buckets.delete(k)
      }
      this.sweptAt = now
    }
    let entry = this.buckets.get(key)
    if (!entry) {
      entry = { backend: this.shared ? sharedBackend(this.config, this.startFull, this.shared, key) : localBackend(this.config, this.startFull), usedAt: now }
      this.buckets.set(key, entry)
    }
    entry.usedAt = now
    return entry.backend
  }

  /** Takes `count` tokens now if they are there. @returns whether they were taken. */
  tryTake(key: string, count = 1): Promise<boolean> {
    return this.bucket(key).tryTake(count)
  }

  /** Milliseconds until `count` tokens are available for `key` (0 = now). */
  waitMs(key: string, count = 1): Promise<number> {
    return this.bucket(key).waitMs(Math.min(count, this.burst))
  }

  /**
   * Takes `count` tokens, waiting as long as needed, in chunks no larger than the burst.
   * @returns milliseconds spent waiting.
   */
  async take(key: string, count: number, between?: () => Promise<void>): Promise<number> {
    const bucket = this.bucket(key)
    if (await bucket.tryTake(count)) return 0
    const started = performance.now()
    let left = count
    while (left > 0) {
      const chunk = Math.min(left, this.burst)
      await bucket.remove(chunk)
      left -= chunk
      if (between) await between()
    }
    return performance.now() - started
  }

  /** Stops the background work of shared buckets; idempotent. */
  close(): void {
    for (const e of this.buckets.values()) e.backend.close()
    this.buckets.clear()
  }

  /** Number of keys with a live bucket in this daemon. */
  get keys(): number {
    return this.buckets.size
  }
}
