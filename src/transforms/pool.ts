/**
 * A pool of transform worker threads for one stream, sized to the stream's `parallelism`
 * (contract: parallelism means parallel work, not only partitions). Each task is one Kafka
 * message; user transforms therefore run on as many cores as the stream asks for.
 */
import { Piscina } from 'piscina'
import { stageLog } from '../util/log.ts'
import { DEFAULT_BOUNDS, rawFields, rejectedMessage } from './decode.ts'
import type { WorkBatch, WorkLoad, WorkResult, WorkTask } from './types.ts'

const logger = stageLog('transforms')

export interface PoolOptions {
  /**
   * A task without an answer after this long is aborted (its worker thread is replaced) and
   * run once more; a second timeout dead-letters the message as `task_timeout`, in ms.
   * FLOWHOUSE_TASK_TIMEOUT_MS. @default 60_000
   */
  taskTimeoutMs?: number
}

const TIMEOUT = Symbol('task timeout')

/**
 * The task as it crosses to a worker: its value copied into an ArrayBuffer of its own, exactly
 * `value.byteLength` long, listed for transfer. A value is usually a view of the Kafka client's
 * fetch buffer (megabytes); cloned as it is, the whole underlying buffer would be copied for
 * every message. The caller's `task.value` is left intact (a retry copies it again); the copy is
 * detached once the task is posted.
 */
export function transferable<T extends { value: Uint8Array }>(task: T): { task: T; transferList: ArrayBuffer[] } {
  const value = new Uint8Array(task.value.byteLength)
  value.set(task.value)
  return { task: { ...task, value }, transferList: [value.buffer] }
}

const entry = new URL('./worker-entry.mjs', import.meta.url).href

export class TransformPool {
  private readonly pool: Piscina
  private closed = false

  private readonly taskTimeoutMs: number

  /** @param threads number of worker threads (the stream's parallelism), ≥ 1. */
  constructor(
    readonly threads: number,
    options: PoolOptions = {},
  ) {
    this.taskTimeoutMs = options.taskTimeoutMs ?? 60_000
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
   * Processes one message in a worker. Always settles: a task that has not answered after
   * `taskTimeoutMs` (a lost answer, a worker that died, a value the thread boundary dropped) is
   * aborted and tried once more, then the message is dead-lettered at stage `transform` with
   * errorType `task_timeout`.
   *
   * With `maxRecordMs` (a max_processing_time_ms constraint), a record whose transform has not
   * returned `maxRecordMs` + max(1 s, maxRecordMs) after it started is declared stuck: the
   * worker thread is stopped (a runaway synchronous transform cannot be interrupted any other
   * way) and the message runs again with that record marked `stuck`, so it is dead-lettered
   * and its neighbours go through. Only that worker waits; the daemon does not stall.
   * @throws when the worker cannot load the pipeline module (the stream cannot run), or the pool is closed.
   */
  async run(task: WorkTask, maxRecordMs?: number): Promise<WorkResult> {
    const started = performance.now()
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        return await this.attempt(task, maxRecordMs)
      } catch (error) {
        if (error !== TIMEOUT) throw error
        logger.warn({ stream: task.stream, attempt, timeoutMs: this.taskTimeoutMs }, 'worker task did not answer in time; aborted')
      }
    }
    const reason = `no answer from the transform worker within ${this.taskTimeoutMs} ms, twice (FLOWHOUSE_TASK_TIMEOUT_MS)`
    return rejectedMessage({ stage: 'transform', errorType: 'task_timeout', reason, ...rawFields(task.value, (task.bounds ?? DEFAULT_BOUNDS).rawKeepBytes, true) }, started)
  }

  /**
   * Processes several messages in one worker task (one crossing of the thread boundary each way
   * instead of one per message); `results[i]` is the outcome of `tasks[i]`. Each value crosses as
   * a transferred copy of its own bytes (transferable()). Always settles: when the worker has not
   * answered after `taskTimeoutMs`, or answered with something other than one result per
   * message, each message runs again on its own through run() (which dead-letters it as
   * `task_timeout` if it cannot answer either). A task with a processing limit
   * (max_processing_time_ms) goes through run(), never here.
   * @throws as run() does.
   */
  async runMany(tasks: WorkTask[]): Promise<WorkResult[]> {
    if (tasks.length === 1) return [await this.run(tasks[0]!)]
    const abort = new AbortController()
    let timedOut = false
    const deadline = setTimeout(() => {
      timedOut = true
      abort.abort()
    }, this.taskTimeoutMs)
    try {
      const crossing = tasks.map((task) => transferable(task))
      const batch: WorkBatch = { many: crossing.map((c) => c.task) }
      const results = (await this.pool.run(batch, { signal: abort.signal, transferList: crossing.flatMap((c) => c.transferList) })) as unknown
      if (Array.isArray(results) && results.length === tasks.length) return results as WorkResult[]
      logger.warn({ stream: tasks[0]!.stream, messages: tasks.length }, 'worker answered a task of several messages without one result per message; running them one by one')
    } catch (error) {
      if (!timedOut) throw error
      logger.warn({ stream: tasks[0]!.stream, messages: tasks.length, timeoutMs: this.taskTimeoutMs }, 'worker task of several messages did not answer in time; aborted, running them one by one')
    } finally {
      clearTimeout(deadline)
    }
    return Promise.all(tasks.map((task) => this.run(task)))
  }

  /** One run of a task; rejects with TIMEOUT after taskTimeoutMs. */
  private async attempt(task: WorkTask, maxRecordMs: number | undefined): Promise<WorkResult> {
    const graceMs = maxRecordMs === undefined ? 0 : Math.max(1_000, maxRecordMs)
    let stuck = task.stuck ?? []
    for (;;) {
      const progress = maxRecordMs === undefined ? undefined : new SharedArrayBuffer(16)
      const view = progress ? new Float64Array(progress) : undefined
      const abort = new AbortController()
      let stuckIndex: number | undefined
      let timedOut = false
      const deadline = setTimeout(() => {
        timedOut = true
        abort.abort()
      }, this.taskTimeoutMs)
      const watch = view
        ? setInterval(() => {
            const startedAt = view[1]!
            if (startedAt > 0 && performance.timeOrigin + performance.now() - startedAt > maxRecordMs! + graceMs) {
              stuckIndex = view[0]!
              abort.abort()
            }
          }, 50)
        : undefined
      try {
        const { task: run, transferList } = transferable(progress ? { ...task, stuck, progress } : task)
        return (await this.pool.run(run, { signal: abort.signal, transferList })) as WorkResult
      } catch (error) {
        if (timedOut) throw TIMEOUT
        if (stuckIndex === undefined) throw error
        stuck = [...stuck, stuckIndex]
      } finally {
        clearTimeout(deadline)
        if (watch) clearInterval(watch)
      }
    }
  }

  /**
   * Has the worker threads load the stream's pipeline module now, one task per thread (idle
   * threads take one each), so the first messages do not wait for the module. Resolves when
   * every thread answered; never rejects: a module that fails to load fails the first message's
   * task instead, as without this call.
   */
  async prepare(load: WorkLoad['load']): Promise<void> {
    await Promise.allSettled(Array.from({ length: this.threads }, () => this.pool.run({ load } satisfies WorkLoad)))
  }

  /** Idempotent; waits for running tasks to end. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.destroy()
  }
}
