/**
 * Daemon-level resource limits: resident memory (max_memory_mb) and process CPU over a
 * sliding window (max_cpu_percent, percent of the whole machine: 100 = every core busy).
 * One sampler per process; consumers ask `gate()` before taking each message.
 */
import os from 'node:os'

const SAMPLE_MS = 250
/** CPU is averaged over this window. */
const WINDOW_MS = 5_000

class ResourceSampler {
  rssMb = process.memoryUsage.rss() / 1_048_576
  cpuPercent = 0
  private samples: Array<{ at: number; cpuMicros: number }> = []
  private timer: NodeJS.Timeout | undefined
  private users = 0

  private sample = (): void => {
    this.rssMb = process.memoryUsage.rss() / 1_048_576
    const { user, system } = process.cpuUsage()
    const now = performance.now()
    this.samples.push({ at: now, cpuMicros: user + system })
    while (this.samples.length > 2 && now - this.samples[0]!.at > WINDOW_MS) this.samples.shift()
    const first = this.samples[0]!
    const elapsedMs = now - first.at
    if (elapsedMs > 0) this.cpuPercent = ((user + system - first.cpuMicros) / 1000 / (elapsedMs * os.availableParallelism())) * 100
  }

  /** Starts sampling while at least one user needs it. */
  acquire(): void {
    if (this.users++ === 0) {
      this.sample()
      this.timer = setInterval(this.sample, SAMPLE_MS)
      this.timer.unref()
    }
  }

  release(): void {
    if (--this.users === 0 && this.timer) clearInterval(this.timer)
  }
}

/** The process-wide sampler. */
export const resources = new ResourceSampler()
