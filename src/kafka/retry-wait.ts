/**
 * A message whose worker result says `retry` (WorkResult.retry: a schema registry that cannot be
 * reached or answers 5xx): the partition waits and runs the message again until it is processed
 * (DESIGN.md "Delivery": retriable errors pause the partition and retry with backoff; they never
 * dead-letter). Messages after it wait too, since results are applied in offset order. While it
 * waits the partition is listed in partitionPauses (readiness reports a long pause) and counted in
 * flowhouse_paused_partitions, and the group membership is kept with heartbeats.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { processingLimitOf } from '../constraints/evaluate.ts'
import { partitionPauses } from '../health/pauses.ts'
import { metrics } from '../metrics/metrics.ts'
import type { TransformPool } from '../transforms/pool.ts'
import type { WorkResult, WorkTask } from '../transforms/types.ts'
import { stageLog } from '../util/log.ts'

const logger = stageLog('consumer')

/** Wait before retry n (1-based): 500 ms doubling, at most 5 s. */
const RETRY_WAIT = { baseMs: 500, maxMs: 5_000 } as const

export interface RetryWaitContext {
  pool: TransformPool
  pipeline: string
  topic: string
  partition: number
  offset: string
  /** Keeps the group membership between attempts. */
  heartbeat: () => Promise<void>
  /** False once the consumer stops, the batch is stale or the partition was revoked: stop waiting. */
  running: () => boolean
}

/**
 * Runs `task` again (after a wait that grows per RETRY_WAIT) until its result has no `retry`.
 * @returns the first result without `retry`, or undefined when `running()` turned false (the
 *   message is not resolved and is fetched again). Throws what TransformPool.run throws.
 */
export async function untilProcessed(first: WorkResult, task: WorkTask | undefined, ctx: RetryWaitContext): Promise<WorkResult | undefined> {
  if (first.retry === undefined) return first
  if (task === undefined) throw new Error('a result asks for a retry but its task is unknown')
  metrics.pausedPartitions.inc({ pipeline: ctx.pipeline })
  const pauseId = partitionPauses.begin({ pipeline: ctx.pipeline, table: ctx.topic, token: `registry:${ctx.topic}:${ctx.partition}:${ctx.offset}` })
  let result = first
  try {
    for (let attempt = 1; result.retry !== undefined; attempt++) {
      partitionPauses.retried(pauseId, result.retry)
      const waitMs = Math.min(RETRY_WAIT.maxMs, RETRY_WAIT.baseMs * 2 ** (attempt - 1))
      logger.warn({ pipeline: ctx.pipeline, partition: ctx.partition, offset: ctx.offset, attempt, waitMs, reason: result.retry }, 'message cannot be decoded now; partition waits and retries')
      await sleep(waitMs)
      await ctx.heartbeat().catch(() => undefined)
      if (!ctx.running()) return undefined
      result = await ctx.pool.run(task, processingLimitOf(task.constraints)?.ms)
    }
    logger.info({ pipeline: ctx.pipeline, partition: ctx.partition, offset: ctx.offset }, 'message decoded after waiting; partition goes on')
    return result
  } finally {
    metrics.pausedPartitions.dec({ pipeline: ctx.pipeline })
    partitionPauses.end(pauseId)
  }
}
