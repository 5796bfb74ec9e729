/**
 * Token bucket pacing records per second for `--rate`. Memory is constant: the caller waits for
 * tokens before reading or sending more, so nothing queues up.
 */

/** Clock and timer, injectable for tests. */
export interface PacerClock {
  /** Monotonic milliseconds. */
  now(): number
  /** Resolves after `ms` milliseconds, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: PacerClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve()
      const done = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal?.addEventListener('abort', done, { once: true })
    }),
}

export class Pacer {
  private tokens: number
  private last: number
  /** Largest burst in records: a tenth of a second of rate, at least one record. */
  readonly capacity: number

  /**
   * @param ratePerSecond records per second, > 0 (finite).
   * @param clock time source (default: `performance.now` and `setTimeout`).
   * @throws RangeError when `ratePerSecond` is not a positive finite number.
   */
  constructor(
    readonly ratePerSecond: number,
    private readonly clock: PacerClock = systemClock,
  ) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new RangeError(`rate must be a positive number of records per second, got ${ratePerSecond}`)
    this.capacity = Math.max(1, ratePerSecond / 10)
    this.tokens = this.capacity
    this.last = clock.now()
  }

  /**
   * Waits until `count` records may be sent, then takes them. `count` above `capacity` is allowed
   * (it borrows: the next takes wait longer), so the long-run rate never exceeds the limit.
   * Resolves early, without taking, when `signal` aborts.
   */
  async take(count: number, signal?: AbortSignal): Promise<void> {
    this.refill()
    while (this.tokens < Math.min(count, this.capacity)) {
      await this.clock.sleep(((Math.min(count, this.capacity) - this.tokens) / this.ratePerSecond) * 1_000, signal)
      if (signal?.aborted) return
      this.refill()
    }
    this.tokens -= count
  }

  private refill(): void {
    const now = this.clock.now()
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1_000) * this.ratePerSecond)
    this.last = now
  }
}

/**
 * Records per message under a rate limit: `batch`, shrunk to ⌈rate / 10⌉ when the rate is below
 * 10 × batch, so that at least about ten messages a second go out and pacing stays smooth.
 */
export function pacedBatch(batch: number, ratePerSecond: number | undefined): number {
  if (ratePerSecond === undefined) return batch
  return Math.max(1, Math.min(batch, Math.ceil(ratePerSecond / 10)))
}
