/**
 * Writes one table's rows of a partition batch into ClickHouse.
 *
 * - Retriable ClickHouse errors (connection, timeout, TOO_MANY_PARTS, memory limit ...) are
 *   retried with backoff while the partition waits; they never dead-letter (DESIGN.md "Delivery").
 * - A non-retriable error (a row ClickHouse cannot parse or store) splits the rows in halves and
 *   retries each half, down to single rows; each row that still fails is dead-lettered at stage
 *   `insert` with ClickHouse's error, and every other row is written. The split points and their
 *   deduplication tokens depend only on the batch, so a replay after a crash repeats them exactly.
 */
import type { ClickHouse } from '../clickhouse/client.ts'
import { insertBatch, withRetry } from '../clickhouse/writer.ts'
import { ROW_ERROR_CODES } from '../clickhouse/errors.ts'
import { ClickHouseError, messageOf } from '../errors.ts'
import { partitionPauses } from '../health/pauses.ts'
import { metrics } from '../metrics/metrics.ts'
import type { DlqItem } from '../model/dlq.ts'
import { joinLines, splitLines } from '../util/lines.ts'
import { stageLog } from '../util/log.ts'

const utf8 = new TextDecoder()

const logger = stageLog('delivery')

export interface SinkContext {
  ch: ClickHouse
  pipeline: string
  /** Called between retries so the consumer keeps its group membership. */
  heartbeat?: () => Promise<void>
  /** Stops retrying when aborted (the daemon is shutting down). */
  signal?: AbortSignal
  /** Backoff of retried inserts, in milliseconds (config FLOWHOUSE_INSERT_RETRY_*). @default 250 and 30_000 */
  retry?: { baseMs: number; maxMs: number }
}

export interface SinkResult {
  written: number
  /** Rows ClickHouse refused; the caller dead-letters them with their source coordinates. */
  rejected: DlqItem[]
}

function codeOf(error: unknown): string {
  return error instanceof ClickHouseError ? String(error.type ?? error.chCode ?? 'unknown') : 'unknown'
}

async function insertRetrying(ctx: SinkContext, table: string, rows: Uint8Array, token: string, count?: number): Promise<number> {
  let paused = false
  let pauseId = 0
  try {
    const result = await withRetry(
      () => insertBatch(ctx.ch, { table, rows, dedupToken: token, ...(count !== undefined ? { count } : {}) }),
      {
        retries: Number.POSITIVE_INFINITY,
        baseMs: ctx.retry?.baseMs ?? 250,
        maxMs: ctx.retry?.maxMs ?? 30_000,
        signal: ctx.signal,
        onRetry: async (error: unknown, attempt: number) => {
          metrics.insertRetries.inc({ table, code: codeOf(error) })
          if (!paused) {
            paused = true
            metrics.pausedPartitions.inc({ pipeline: ctx.pipeline })
            pauseId = partitionPauses.begin({ pipeline: ctx.pipeline, table, token })
          }
          partitionPauses.retried(pauseId, messageOf(error))
          logger.warn({ table, attempt, err: error }, 'retriable insert error; partition waits and retries')
          await ctx.heartbeat?.().catch(() => undefined)
        },
      },
    )
    metrics.insertDuration.observe({ table }, result.durationMs / 1000)
    metrics.batchRows.observe({ table }, result.rows)
    metrics.batchBytes.observe({ table }, result.bytes)
    return result.rows
  } catch (error) {
    metrics.insertErrors.inc({ table, code: codeOf(error) })
    throw error
  } finally {
    if (paused) {
      metrics.pausedPartitions.dec({ pipeline: ctx.pipeline })
      partitionPauses.end(pauseId)
    }
  }
}

function isRowError(error: unknown): boolean {
  return error instanceof ClickHouseError && !error.retriable && error.chCode !== undefined && ROW_ERROR_CODES.has(error.chCode)
}

async function bisect(ctx: SinkContext, table: string, lines: Uint8Array[], lo: number, hi: number, token: string, out: SinkResult): Promise<void> {
  const rows = joinLines(lines.slice(lo, hi))
  try {
    out.written += await insertRetrying(ctx, table, rows, `${token}:r${lo}-${hi - 1}`, hi - lo)
    return
  } catch (error) {
    if (!isRowError(error)) throw error
    if (hi - lo === 1) {
      const ce = error as ClickHouseError
      let record: unknown = utf8.decode(lines[lo])
      try {
        record = JSON.parse(record as string)
      } catch {
        /* keep the text */
      }
      out.rejected.push({ stage: 'insert', errorType: `clickhouse_${ce.type ?? ce.chCode ?? 'error'}`, reason: `ClickHouse refused the row for "${table}": ${ce.message}`, record, table })
      return
    }
  }
  const mid = lo + Math.ceil((hi - lo) / 2)
  await bisect(ctx, table, lines, lo, mid, token, out)
  await bisect(ctx, table, lines, mid, hi, token, out)
}

/**
 * Inserts `rows` (JSONEachRow, UTF-8 bytes: one JSON object per line) into `table` with
 * deduplication token `token`; `count`, when given, is the number of rows in `rows` (not counted
 * again). A refused batch is split on its line breaks (views, no copy;
 * each half is copied once into its own body).
 * @returns rows written and rows refused (to dead-letter).
 * @throws when aborted, or on errors that are neither retriable nor caused by the rows.
 */
export async function writeTable(ctx: SinkContext, table: string, rows: Uint8Array, token: string, count?: number): Promise<SinkResult> {
  const out: SinkResult = { written: 0, rejected: [] }
  try {
    out.written = await insertRetrying(ctx, table, rows, token, count)
    return out
  } catch (error) {
    if (!isRowError(error)) throw error
    logger.warn({ table, err: error }, 'insert refused; isolating the rows ClickHouse cannot store')
  }
  const lines = splitLines(rows)
  await bisect(ctx, table, lines, 0, lines.length, token, out)
  return out
}
