/**
 * Consumer-side (main thread) enforcement of a processed message's constraint outcomes:
 * records the checks and the violations the worker decided, waits on throttling rate limits,
 * decides deferred rate limits (dead_letter / drop) in priority order, and removes what the
 * removed records produced. Also the gate on daemon-level resources (memory, CPU).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { metrics } from '../metrics/metrics.ts'
import type { ResourceChecker } from '../constraints/checkers/index.ts'
import type { ConstraintRegistry, RunningConstraint } from '../constraints/registry.ts'
import { resources } from '../constraints/resource.ts'
import type { Finding, ViolationItem } from '../constraints/types.ts'
import type { DlqItem } from '../model/dlq.ts'
import type { WorkResult } from '../transforms/types.ts'
import { joinLines, splitLines } from '../util/lines.ts'

const ERROR_TYPE = { rate: 'rate_limit_exceeded', validation: 'validation_failed', resource: 'resource_limit_exceeded' } as const

export interface EnforceContext {
  pipeline: string
  registry: ConstraintRegistry
  /** `<topic>:<partition>:<offset>` of the message. */
  source: string
  /** Keeps group membership during long waits. */
  heartbeat?: () => Promise<void>
}

function remove(result: WorkResult, removed: Set<number>): void {
  for (const t of result.tables) {
    if (!t.sources) continue
    const lines = splitLines(t.rows)
    const keep: Uint8Array[] = []
    const sources: number[] = []
    t.sources.forEach((s, i) => {
      if (!removed.has(s)) {
        keep.push(lines[i]!)
        sources.push(s)
      }
    })
    t.rows = joinLines(keep)
    t.count = keep.length
    t.sources = sources
  }
  result.tables = result.tables.filter((t) => t.count > 0)
  for (const t of result.topics) {
    if (!t.sources) continue
    const keep = t.records.filter((_, i) => !removed.has(t.sources![i]!))
    t.sources = t.sources.filter((s) => !removed.has(s))
    t.records = keep
  }
  result.topics = result.topics.filter((t) => t.records.length > 0)
}

/**
 * Applies the constraint outcomes of `result` (mutated: removed records' rows disappear and
 * constraint dead-letter entries join `result.dlq`).
 * @returns how many records a `drop` action removed.
 */
export async function enforce(result: WorkResult, ctx: EnforceContext): Promise<number> {
  const outcome = result.constraints
  if (!outcome) return 0
  const { registry, pipeline, source } = ctx
  const get = (name: string) => registry.get(pipeline, name)
  let dropped = 0
  const apply = (r: RunningConstraint | undefined, v: ViolationItem) => {
    r?.violated(v.action, { source, key: v.key, details: v.reason })
    if (v.action === 'drop') {
      dropped++
      metrics.recordsDropped.inc({ pipeline, constraint: v.constraint })
    } else {
      const item: DlqItem = { stage: 'constraint', errorType: ERROR_TYPE[v.type], reason: v.reason, index: v.index, record: v.record }
      result.dlq.push(item)
    }
  }

  for (const [name, count] of Object.entries(outcome.checks)) get(name)?.checked(count)

  for (const [name, perKey] of Object.entries(outcome.throttle)) {
    const r = get(name)
    const checker = r?.checker
    if (!r?.enabled || !r.rate || checker?.type !== 'rate') continue
    for (const [key, count] of Object.entries(perKey)) {
      const waitedMs = await r.rate.take(key, count, ctx.heartbeat)
      if (waitedMs >= 1) {
        r.throttled(waitedMs / 1000)
        r.violated('throttle', { source, key, count, details: checker.throttled(key, waitedMs) })
      }
    }
  }

  for (const v of outcome.violations) apply(get(v.constraint), v)

  const removed = new Set<number>()
  for (const d of outcome.deferred) {
    let refused = false
    for (const rate of d.rates) {
      const r = get(rate.constraint)
      const checker = r?.checker
      if (!r?.enabled || !r.rate || checker?.type !== 'rate' || (await r.rate.tryTake(rate.key))) continue
      const action = r.spec.action === 'drop' ? 'drop' : 'dead_letter'
      apply(r, { constraint: r.name, type: 'rate', action, index: d.index, key: d.key, reason: checker.exceeded(rate.key), record: d.record })
      refused = true
      break
    }
    if (!refused && d.terminal) apply(get(d.terminal.constraint), d.terminal)
    if (refused && !d.terminal) {
      removed.add(d.index)
      for (const destination of d.filteredBy ?? []) {
        result.filtered--
        if (result.filteredBy?.[destination]) result.filteredBy[destination]--
      }
    }
  }
  if (removed.size > 0) remove(result, removed)
  return dropped
}

/** The first resource constraint among `limits` whose checker reports a finding, with it. */
function firstOver(limits: readonly RunningConstraint[], probe: (checker: ResourceChecker) => Finding | undefined): { r: RunningConstraint; finding: Finding } | undefined {
  for (const r of limits) {
    const finding = r.checker.type === 'resource' ? probe(r.checker) : undefined
    if (finding) return { r, finding }
  }
  return undefined
}

/**
 * Waits while a resource constraint of the pipeline says consumption must not go on: the
 * daemon's RSS is over max_memory_mb (pause until it is below), or its CPU over the window is
 * over max_cpu_percent (throttle in 100 ms steps). Returns at once when neither applies.
 * @param partitions how many partitions wait here (for the paused-partitions gauge).
 * @param beforeWait called once, before the first wait (the consumer hands grouped messages to the workers then).
 */
export async function resourceGate(registry: ConstraintRegistry, pipeline: string, partitions: number, heartbeat?: () => Promise<void>, beforeWait?: () => void): Promise<void> {
  let paused: RunningConstraint | undefined
  let throttling: RunningConstraint | undefined
  let waited = false
  const wait = async (ms: number) => {
    if (!waited) beforeWait?.()
    waited = true
    await sleep(ms)
  }
  for (;;) {
    const limits = registry.enabled(pipeline)
    const memory = firstOver(limits, (checker) => checker.memory(resources.rssMb))
    if (memory) {
      if (!paused) {
        paused = memory.r
        metrics.constraintPauses.inc({ pipeline, constraint: memory.r.name })
        metrics.pausedPartitions.inc({ pipeline }, partitions)
        memory.r.violated('throttle', { source: `pipeline:${pipeline}`, key: '', details: memory.finding.reason })
      }
      await wait(200)
      memory.r.throttled(0.2)
      await heartbeat?.()
      continue
    }
    const cpu = firstOver(limits, (checker) => checker.cpu(resources.cpuPercent))
    if (cpu) {
      if (!throttling) {
        throttling = cpu.r
        cpu.r.violated('throttle', { source: `pipeline:${pipeline}`, key: '', details: cpu.finding.reason })
      }
      await wait(100)
      cpu.r.throttled(0.1)
      await heartbeat?.()
      continue
    }
    break
  }
  if (paused) {
    metrics.constraintResumes.inc({ pipeline, constraint: paused.name })
    metrics.pausedPartitions.dec({ pipeline }, partitions)
  }
}
