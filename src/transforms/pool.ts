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
   * @throws when the worker cannot load the pipeline module (the stream cannot run), or the pool is closed.
   */
  run(task: WorkTask): Promise<WorkResult> {
    return this.pool.run(task) as Promise<WorkResult>
  }

  /** Idempotent; waits for running tasks to end. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.destroy()
  }
}
