/**
 * Zero-valued series created when a stream starts, so that dashboards and alert rules see
 * `0` (and `rate()` works) before the first event of each kind: dead-lettered records per DLQ
 * stage, filtered, consumed and written records, paused partitions. Labels stay bounded
 * (pipeline, stage, table).
 */
import type { StreamLike } from '../model/types.ts'
import type { DlqStage } from '../model/dlq.ts'
import { metrics } from './metrics.ts'

/** Every DLQ stage (DESIGN.md "Dead-letter queue"). */
export const DLQ_STAGES: readonly DlqStage[] = ['decode', 'validation', 'constraint', 'transform', 'insert']

/**
 * Creates the zero-valued series of one pipeline; existing values are left as they are
 * (adds 0). Never throws.
 * @param tables the ClickHouse tables the pipeline's stream writes to.
 * @param topics the streams (topics) its transforms send records to.
 */
export function initPipelineSeries(pipeline: string, tables: readonly string[], topics: readonly string[] = []): void {
  for (const stage of DLQ_STAGES) metrics.recordsDeadLettered.inc({ pipeline, stage }, 0)
  metrics.messagesConsumed.inc({ pipeline }, 0)
  metrics.recordsConsumed.inc({ pipeline }, 0)
  metrics.bytesIn.inc({ pipeline }, 0)
  metrics.batches.inc({ pipeline }, 0)
  metrics.pausedPartitions.inc({ pipeline }, 0)
  for (const table of tables) metrics.recordsWritten.inc({ pipeline, table }, 0)
  for (const destination of [...tables, ...topics]) metrics.recordsFiltered.inc({ pipeline, destination }, 0)
  for (const topic of topics) metrics.recordsProduced.inc({ pipeline, topic }, 0)
}

/** Names of the ClickHouse tables a stream writes to: its destination and its transforms' table destinations. */
export function tablesOf(stream: StreamLike): string[] {
  const destinations = [stream.destination, ...stream.transforms.map((t) => t.destination)]
  return [...new Set(destinations.flatMap((d) => (d?.kind === 'table' ? [d.name] : [])))]
}

/** Names of the streams (topics) a stream's transforms send records to. */
export function topicsOf(stream: StreamLike): string[] {
  return [...new Set(stream.transforms.flatMap((t) => (t.destination.kind === 'stream' ? [t.destination.name] : [])))]
}
