/**
 * Partitions waiting on retried ClickHouse inserts (DESIGN.md "Delivery": retriable errors
 * pause the partition and retry with backoff). The sink opens an entry at the first retriable
 * failure of an insert and closes it when the insert succeeds or gives up; readiness fails when
 * an entry stays open longer than a threshold (FLOWHOUSE_READY_PAUSE_THRESHOLD_MS).
 *
 * Entries carry the pipeline, the table and the insert's deduplication token
 * (`<table>:<topic>:<partition>:<first>-<last>`), which names the partition and offset range.
 */

/** What a waiting insert is about. */
export interface PauseInfo {
  pipeline: string
  table: string
  /** Deduplication token of the insert; names topic, partition and offset range. */
  token: string
}

/** One open pause, as reported by `list()`. */
export interface PauseEntry extends PauseInfo {
  /** Epoch milliseconds of the first retriable failure. */
  since: number
  /** How long the insert has been waiting, in milliseconds. */
  pausedMs: number
  /** Retriable failures so far. */
  attempts: number
  /** Message of the last failure. */
  lastError: string | undefined
}

interface OpenPause extends PauseInfo {
  since: number
  attempts: number
  lastError: string | undefined
}

/** A registry of open pauses; one per process (`partitionPauses`), separate instances in tests. */
export class PauseRegistry {
  private readonly open = new Map<number, OpenPause>()
  private nextId = 1

  /**
   * Opens a pause at `now` (epoch ms) and returns its id for `retried()` and `end()`.
   * Never throws.
   */
  begin(info: PauseInfo, now: number = Date.now()): number {
    const id = this.nextId++
    this.open.set(id, { ...info, since: now, attempts: 0, lastError: undefined })
    return id
  }

  /** Records one more retriable failure of an open pause; unknown ids are ignored. */
  retried(id: number, error: string): void {
    const p = this.open.get(id)
    if (!p) return
    p.attempts++
    p.lastError = error
  }

  /** Closes a pause. Idempotent. */
  end(id: number): void {
    this.open.delete(id)
  }

  /** Open pauses, longest first, with their age at `now` (epoch ms). */
  list(now: number = Date.now()): PauseEntry[] {
    return [...this.open.values()]
      .map((p) => ({ pipeline: p.pipeline, table: p.table, token: p.token, since: p.since, pausedMs: Math.max(0, now - p.since), attempts: p.attempts, lastError: p.lastError }))
      .sort((a, b) => b.pausedMs - a.pausedMs)
  }
}

/** The process-wide registry the sink writes and readiness reads. */
export const partitionPauses = new PauseRegistry()
