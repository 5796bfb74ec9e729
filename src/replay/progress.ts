/**
 * Replay progress on stderr. On a TTY one line is rewritten (`\r`) about once a second; otherwise
 * (CI, pipes) a plain line is printed every 5 seconds. A summary line ends the output.
 */
import type { ReplayProgress, ReplayResult } from './types.ts'

/** Where and how often progress is printed. */
export interface ProgressPrinterOptions {
  /** Output stream. @default process.stderr */
  stream?: { write(text: string): unknown; isTTY?: boolean }
  /** Rewrite one line in place. @default stream.isTTY */
  tty?: boolean
  /** Milliseconds between two lines. @default 1_000 on a TTY, 5_000 otherwise */
  intervalMs?: number
  /** Label at the start of each line, e.g. the topic. @default 'replay' */
  label?: string
  /** Monotonic clock in milliseconds (for tests). @default performance.now */
  now?: () => number
}

/** An `onProgress` callback for `replay()` that prints, plus `finish` for the summary line. */
export interface ProgressPrinter {
  (progress: ReplayProgress): void
  /** Prints the summary line (once; later calls do nothing). */
  finish(result: ReplayResult): void
}

/**
 * Creates a progress printer. Call it with every progress update (it throttles itself, no timer
 * is left running; the first update only starts the clock); when the known total is reached it prints the final state and ends the line,
 * so callers that never call `finish` still leave a clean terminal. Never throws.
 */
export function createProgressPrinter(options: ProgressPrinterOptions = {}): ProgressPrinter {
  const stream = options.stream ?? process.stderr
  const tty = options.tty ?? stream.isTTY === true
  const intervalMs = options.intervalMs ?? (tty ? 1_000 : 5_000)
  const label = options.label ?? 'replay'
  const now = options.now ?? (() => performance.now())
  let first: ReplayProgress | undefined
  let last: ReplayProgress | undefined
  let lastAt = 0
  let lineOpen = false
  let done = false

  const print = (line: string, final: boolean): void => {
    if (tty) {
      stream.write(`\r${line}\x1b[K${final ? '\n' : ''}`)
      lineOpen = !final
    } else stream.write(`${line}\n`)
  }

  // Rates are measured from the first acknowledgement on, so connection and file set-up time
  // does not distort the first line or the ETA.
  const printer = ((progress: ReplayProgress): void => {
    if (done) return
    const at = now()
    const complete = progress.total !== undefined && progress.records >= progress.total
    if (first === undefined || last === undefined) {
      first = last = { ...progress }
      lastAt = at
      if (!complete) return
    }
    if (!complete && at - lastAt < intervalMs) return
    const rate = ratePerSecond(last, progress) ?? ratePerSecond(first, progress) ?? 0
    const average = ratePerSecond(first, progress)
    const etaMs = progress.total !== undefined && average !== undefined && average > 0 ? ((progress.total - progress.records) / average) * 1_000 : undefined
    last = { ...progress }
    lastAt = at
    print(`${label}: ${formatProgress(progress, rate, etaMs)}`, complete)
    if (complete) done = true
  }) as ProgressPrinter

  printer.finish = (result: ReplayResult): void => {
    if (lineOpen) stream.write('\n')
    lineOpen = false
    done = true
    stream.write(`${label}: ${formatSummary(result)}\n`)
    printer.finish = () => undefined
  }
  return printer
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** Records per second between two snapshots; undefined when no time passed between them. */
function ratePerSecond(from: ReplayProgress, to: ReplayProgress): number | undefined {
  const ms = to.elapsedMs - from.elapsedMs
  return ms > 0 ? ((to.records - from.records) * 1_000) / ms : undefined
}

/**
 * One progress line without the label, e.g.
 * `1,200,000 / 3,000,000 records (40.0%)  412,000 rec/s  132.4 MB  ETA 4s`.
 * `rate`: records per second (the printer passes the rate over the last interval). Percent needs
 * a known total; the ETA (milliseconds) is shown when given and the total is not reached.
 */
export function formatProgress(progress: ReplayProgress, rate: number, etaMs?: number): string {
  const { records, total, bytes } = progress
  const parts = [total === undefined ? `${int.format(records)} records` : `${int.format(records)} / ${int.format(total)} records (${percent(records, total)})`]
  parts.push(`${int.format(rate)} rec/s`, `${megabytes(bytes)} MB`)
  if (etaMs !== undefined && total !== undefined && records < total) parts.push(`ETA ${duration(etaMs)}`)
  return parts.join('  ')
}

/** The summary line without the label, e.g. `sent 3,000,000 records in 3,000 messages (335.7 MB) in 12.1 s, 247,000 rec/s`. */
export function formatSummary(result: ReplayResult): string {
  const seconds = result.durationMs / 1_000
  const rate = seconds > 0 ? result.records / seconds : 0
  const head = result.aborted ? 'aborted after sending' : 'sent'
  return `${head} ${int.format(result.records)} records in ${int.format(result.messages)} messages (${megabytes(result.bytes)} MB) in ${seconds.toFixed(1)} s, ${int.format(rate)} rec/s`
}

function percent(records: number, total: number): string {
  return total === 0 ? '100.0%' : `${((records / total) * 100).toFixed(1)}%`
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1)
}

/** `45s`, `3m05s`, `1h02m`. */
function duration(ms: number): string {
  const s = Math.round(ms / 1_000)
  if (s < 60) return `${s}s`
  if (s < 3_600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3_600)}h${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')}m`
}
