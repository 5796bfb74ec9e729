/**
 * Cron schedules of scheduled views (croner). A run that is still going when the next one is due
 * is skipped (croner's `protect`), so refreshes of one view never overlap.
 */
import { Cron } from 'croner'

/** One croner job per scheduled view. */
export class RefreshScheduler {
  readonly #jobs = new Map<string, Cron>()

  /**
   * Runs `run` on the cron expression in the time zone; replaces an earlier schedule of the view.
   * `run` should not throw (errors are its own to record); a throw is swallowed.
   * @throws Error from croner for an invalid expression or time zone (checked earlier by the model).
   */
  schedule(view: string, expression: string, timezone: string, run: () => Promise<void>): void {
    this.unschedule(view)
    const job = new Cron(expression, { timezone, protect: true, catch: true }, async () => {
      await run().catch(() => undefined)
    })
    this.#jobs.set(view, job)
  }

  /** Next run of the view's schedule, or null. */
  nextRun(view: string): Date | null {
    return this.#jobs.get(view)?.nextRun() ?? null
  }

  /** Stops the view's schedule (idempotent). */
  unschedule(view: string): void {
    this.#jobs.get(view)?.stop()
    this.#jobs.delete(view)
  }

  /** Stops every schedule (idempotent). */
  stopAll(): void {
    for (const view of [...this.#jobs.keys()]) this.unschedule(view)
  }
}
