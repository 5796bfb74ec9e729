/**
 * A task run every `intervalMs` (first run at start), never two runs at once. Errors are logged
 * and the task keeps its schedule. Used for the lag collector and the readiness gauges.
 */
import { stageLog } from './log.ts'

const logger = stageLog('health')

export class Periodic {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = false

  /**
   * @param name used in log lines.
   * @param intervalMs period in milliseconds (positive).
   * @param task the work; a rejection is logged, not thrown.
   */
  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
  ) {}

  /** Runs the task now and then every interval. Idempotent. */
  start(): this {
    if (this.timer || this.stopped) return this
    this.tick()
    this.timer = setInterval(() => this.tick(), this.intervalMs)
    this.timer.unref()
    return this
  }

  /** Runs the task once unless a run is in progress; resolves when that run ends. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve()
    this.running ??= this.task()
      .catch((error: unknown) => logger.warn({ task: this.name, err: error }, 'periodic task failed'))
      .finally(() => (this.running = undefined))
    return this.running
  }

  /** Stops the schedule and waits for a run in progress. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.running
  }
}
