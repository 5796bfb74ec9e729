/**
 * Exponential backoff with jitter around a ClickHouse call. Only ClickHouseErrors marked
 * `retriable` (clickhouse/errors.ts) are retried; programmer errors and every other error go
 * straight to the caller (kafkajs src/retry rule: never retry a programmer error). The loop
 * itself is the shared one (util/retry.ts); this file is the ClickHouse policy.
 */
import { ClickHouseError } from '../errors.ts'
import { withRetry as retry } from '../util/retry.ts'

/** Retry policy. */
export interface RetryOptions {
  /** Retries after the first attempt; `Infinity` retries until success or abort. @default 5 */
  retries?: number
  /** Wait before the first retry, in milliseconds (doubles per retry, with jitter). @default 100 */
  baseMs?: number
  /** Longest wait between two attempts, in milliseconds. @default 10_000 */
  maxMs?: number
  /**
   * Called (and awaited) before each wait with the retriable error, the retry number (1 for the
   * first retry) and the wait in milliseconds — e.g. to count retries by `error.type`.
   */
  onRetry?: (error: ClickHouseError, attempt: number, delayMs: number) => void | Promise<void>
  /** Aborting stops the retries: the pending wait ends and `signal.reason` is thrown. */
  signal?: AbortSignal
}

/** Defaults of RetryOptions. */
export const RETRY_DEFAULTS = { retries: 5, baseMs: 100, maxMs: 10_000 } as const

/**
 * The wait before retry `attempt` (1-based): "equal jitter" — half of min(maxMs, baseMs·2^(attempt-1))
 * plus a random part of the other half, so concurrent partitions do not retry in step.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

/**
 * Runs `fn` and retries it while it throws a retriable ClickHouseError, up to `retries` times.
 * @param fn receives the attempt number (0 for the first call).
 * @returns what `fn` returns.
 * @throws the first non-retriable error, the last error once retries are used up, or
 *   `signal.reason` when aborted (before an attempt or during a wait).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? RETRY_DEFAULTS.retries
  const baseMs = options.baseMs ?? RETRY_DEFAULTS.baseMs
  const maxMs = options.maxMs ?? RETRY_DEFAULTS.maxMs
  const { signal, onRetry } = options
  signal?.throwIfAborted()
  return retry(fn, {
    retriable: (error) => error instanceof ClickHouseError && error.retriable,
    delayMs: (n) => (n <= retries ? backoffMs(n, baseMs, maxMs) : undefined),
    onRetry: onRetry && ((error, n, delayMs) => onRetry(error as ClickHouseError, n, delayMs)),
    signal,
  })
}
