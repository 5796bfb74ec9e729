/**
 * Event-loop responsiveness for liveness (`GET /health`), measured with
 * `perf_hooks.monitorEventLoopDelay`. The histogram is rotated every `windowMs`: a report
 * covers the window in progress and the one before it, so one long GC pause ages out while
 * sustained starvation (a high p99) shows.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'

/** Event-loop delay (beyond the sampling period) over the last one to two windows, in milliseconds. */
export interface EventLoopDelay {
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** Timer samples the figures are based on (0 right after start). */
  samples: number
}

interface Window {
  p50: number
  p99: number
  max: number
  count: number
}

const NS_PER_MS = 1e6

/** Reads a histogram; its samples include the timer period itself, which is subtracted. */
function read(h: IntervalHistogram, resolutionMs: number): Window {
  const ms = (ns: number) => (h.count > 0 ? Math.max(0, ns / NS_PER_MS - resolutionMs) : 0)
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), count: h.count }
}

export class EventLoopMonitor {
  private readonly histogram: IntervalHistogram
  private previous: Window | undefined
  private timer: NodeJS.Timeout | undefined

  /**
   * @param windowMs rotation period in milliseconds. @default 10_000
   * @param resolutionMs sampling timer period in milliseconds. @default 20
   */
  constructor(
    private readonly windowMs = 10_000,
    private readonly resolutionMs = 20,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs })
  }

  /** Starts sampling. Idempotent. */
  start(): this {
    if (this.timer) return this
    this.histogram.enable()
    this.timer = setInterval(() => this.rotate(), this.windowMs)
    this.timer.unref()
    return this
  }

  /** Stops sampling. Idempotent. */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.histogram.disable()
  }

  /** Ends the current window (also called by the timer). */
  rotate(): void {
    this.previous = read(this.histogram, this.resolutionMs)
    this.histogram.reset()
  }

  /**
   * Delay over the current window and the previous one: the larger p50/p99/max of the two
   * (a window without samples counts as zero). Never throws.
   */
  delay(): EventLoopDelay {
    const now = read(this.histogram, this.resolutionMs)
    const windows = [now, this.previous].filter((w): w is Window => w !== undefined && w.count > 0)
    const pick = (f: (w: Window) => number) => round(Math.max(0, ...windows.map(f)))
    return { p50Ms: pick((w) => w.p50), p99Ms: pick((w) => w.p99), maxMs: pick((w) => w.max), samples: windows.reduce((n, w) => n + w.count, 0) }
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}
