/**
 * The retry loop shared by every stage: run, and on an error the policy calls retriable, wait and
 * run again. Programmer errors (TypeError, RangeError, ReferenceError, SyntaxError) are never
 * retried, whatever the policy says (kafkajs src/retry rule). The stages keep their own policies:
 * clickhouse/retry.ts (exponential backoff with jitter for retriable ClickHouseErrors), views
 * (fixed waits for a view job).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { isProgrammerError } from '../errors.ts'

/** How a call is retried. */
export interface RetryPolicy {
  /** Whether an error thrown by the call may be retried (never asked for a programmer error). */
  retriable: (error: unknown) => boolean
  /**
   * The wait before retry `retry` (1 for the first retry), in milliseconds; `undefined` when no
   * retry is left, so the error goes to the caller.
   */
  delayMs: (retry: number) => number | undefined
  /** Called (and awaited) before each wait with the error, the retry number and the wait in milliseconds. */
  onRetry?: (error: unknown, retry: number, delayMs: number) => void | Promise<void>
  /**
   * Aborting stops the retries: a pending wait ends and `signal.reason` is thrown. The call that
   * is running is not interrupted (give it the signal for that), and the first call is made even
   * when the signal is already aborted.
   */
  signal?: AbortSignal
}

/** Waits `ms`; rejects with the signal's reason when `signal` aborts first. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) throw signal.reason
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined)
  } catch (error) {
    throw signal?.aborted ? signal.reason : error
  }
}

/**
 * Runs `fn` and runs it again while it throws an error the policy retries and a wait is left.
 * @param fn receives the attempt number (0 for the first call).
 * @returns what `fn` returns.
 * @throws the first error that is a programmer error or not retriable, the last error once no
 *   wait is left, or `signal.reason` when aborted during a wait (or right after it).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      const delayMs = !isProgrammerError(error) && policy.retriable(error) ? policy.delayMs(attempt + 1) : undefined
      if (delayMs === undefined) throw error
      await policy.onRetry?.(error, attempt + 1, delayMs)
      await pause(delayMs, policy.signal)
      policy.signal?.throwIfAborted()
    }
  }
}
