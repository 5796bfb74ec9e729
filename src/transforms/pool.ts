/**
 * A pool of transform worker threads for one stream, sized to the stream's `parallelism`
 * (contract: parallelism means parallel work, not only partitions). Each task is one Kafka
 * message; user transforms therefore run on as many cores as the stream asks for.
 */
import { Piscina } from 'piscina'
import type { WorkResult, WorkTask } from './types.ts'

const entry = new URL('./worker-entry.mjs', import.meta.url).href

export class TransformPool {
  private readonly pool: Piscina
  private closed = false

  /** @param threads number of worker threads (the stream's parallelism), ≥ 1. */
  constructor(readonly threads: number) {
    this.pool = new Piscina({
      filename: entry,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      // Keep a few messages queued per thread so no core waits on the main thread.
      maxQueue: threads * 64,
      concurrentTasksPerWorker: 1,
    })
  }

  /**
   * Processes one message in a worker.
   *
   * With `maxRecordMs` (a max_processing_time_ms constraint), a record whose transform has not
   * returned `maxRecordMs` + max(1 s, maxRecordMs) after it started is declared stuck: the
   * worker thread is stopped (a runaway synchronous transform cannot be interrupted any other
   * way) and the message runs again with that record marked `stuck`, so it is dead-lettered
   * and its neighbours go through. Only that worker waits; the daemon does not stall.
   * @throws when the worker cannot load the pipeline module (the stream cannot run), or the pool is closed.
   */
  async run(task: WorkTask, maxRecordMs?: number): Promise<WorkResult> {
    if (maxRecordMs === undefined) return this.pool.run(task) as Promise<WorkResult>
    const graceMs = Math.max(1_000, maxRecordMs)
    let stuck = task.stuck ?? []
    for (;;) {
      const progress = new SharedArrayBuffer(16)
      const view = new Float64Array(progress)
      const abort = new AbortController()
      let stuckIndex: number | undefined
      const watch = setInterval(() => {
        const startedAt = view[1]!
        if (startedAt > 0 && performance.timeOrigin + performance.now() - startedAt > maxRecordMs + graceMs) {
          stuckIndex = view[0]!
          abort.abort()
        }
      }, 50)
      try {
        return (await this.pool.run({ ...task, stuck, progress }, { signal: abort.signal })) as WorkResult
      } catch (error) {
        if (stuckIndex === undefined) throw error
        stuck = [...stuck, stuckIndex]
      } finally {
        clearInterval(watch)
      }
    }
  }

  /** Idempotent; waits for running tasks to end. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.destroy()
  }
}
