/**
 * Phase 2 of the two-phase backfill: the source rows at or before the cutoff go into the target
 * in batches, in watermark order, with their progress recorded after each batch (total rows,
 * processed rows, last position). A killed or failed backfill resumes from its last position:
 * the batch that was being written when it stopped is written again over exactly the same range
 * with the same `insert_deduplication_token`, so ClickHouse drops it if it had landed (engines
 * without deduplication tokens — ClickHouse < 22.2 — may count that one batch twice).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import type { ClickHouse } from '../clickhouse/client.ts'
import { queryRows, runCommand } from '../clickhouse/query.ts'
import { metrics } from '../metrics/metrics.ts'
import { failpoint, failpointOn, failpointsArmed } from '../util/failpoints.ts'
import { filteredSource, insertSelectSql } from './ddl.ts'
import { rangePredicate, watermarkExpr, type SourceAccess } from './source.ts'
import { renderSource } from './template.ts'
import type { NodeProgress, ViewDefinition, Watermark } from './types.ts'

/** What a backfill needs. */
export interface BackfillContext {
  ch: ClickHouse
  def: ViewDefinition
  jobId: number
  watermark: Watermark
  /** Target columns named in the INSERT, in the SELECT's output order. */
  insertColumns: readonly string[]
  /** Each node's progress and where to read its source. */
  nodes: Array<{ progress: NodeProgress; access: SourceAccess }>
  batchRows: number
  pauseMs: number
  signal: AbortSignal
  /** Persists progress (called before and after each batch). */
  save(nodes: NodeProgress[]): Promise<void>
  log: Logger
}

/** Waits `ms`, or less when `signal` aborts (then resolves early). */
const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  ms <= 0 || signal.aborted ? Promise.resolve() : sleep(ms, undefined, { signal }).catch(() => undefined)

/**
 * Settings that make a batch idempotent: its dedup token (dedup switched on with the setting the
 * engine obeys) and one insert thread, so the batch lands as one block. Empty where the engine has
 * no tokens.
 */
export function dedupSettings(ch: Pick<ClickHouse, 'capabilities'>, token: string): Record<string, string | number> {
  const c = ch.capabilities
  if (failpointOn('backfill.no-dedup-token')) return c.deduplicateInsert ? { deduplicate_insert: 'disable' } : c.insertDeduplicate ? { insert_deduplicate: 0 } : {}
  if (!c.insertDeduplicationToken) return {}
  const s: Record<string, string | number> = { insert_deduplication_token: token }
  if (c.deduplicateInsert) s.deduplicate_insert = 'enable'
  else if (c.insertDeduplicate) s.insert_deduplicate = 1
  s.max_insert_threads = 1
  return s
}

/** The dedup token of a batch: view, job, node and position range. */
export function batchToken(view: string, jobId: number, node: string, lo: string | null, hi: string): string {
  return `flowhouse:mv:${view}:${jobId}:${node}:${lo ?? ''}-${hi}`
}

/** Rows of the source (on one node) at or before the cutoff. @throws ClickHouseError. */
export async function countUpTo(ch: ClickHouse, access: SourceAccess, wm: Watermark, cutoff: string): Promise<number> {
  const [row] = await queryRows<{ n: number | string }>(ch, `SELECT count() AS n FROM ${access.from} WHERE ${rangePredicate(wm, null, cutoff)}`)
  return Number(row?.n ?? 0)
}

/** Plans batches by block number: consecutive blocks until at least `batchRows` rows. */
export function planBlockBatches(blocks: ReadonlyArray<{ b: number; n: number }>, batchRows: number): Array<{ hi: string; rows: number }> {
  const out: Array<{ hi: string; rows: number }> = []
  let rows = 0
  for (const [i, block] of blocks.entries()) {
    rows += block.n
    if (rows >= batchRows || i === blocks.length - 1) {
      out.push({ hi: String(block.b), rows })
      rows = 0
    }
  }
  return out
}

interface Batch {
  hi: string
  rows: number
}

class NodeBackfill {
  constructor(
    private readonly ctx: BackfillContext,
    private readonly node: { progress: NodeProgress; access: SourceAccess },
  ) {}

  private get wm(): Watermark {
    return this.ctx.watermark
  }

  private async count(lo: string | null, hi: string | null): Promise<number> {
    const where = rangePredicate(this.wm, lo, hi)
    const [row] = await queryRows<{ n: number | string }>(this.ctx.ch, `SELECT count() AS n FROM ${this.node.access.from}${where ? ` WHERE ${where}` : ''}`)
    return Number(row?.n ?? 0)
  }

  /** Remaining batches after `lo` (block numbers: planned at once from a histogram). */
  private async blockPlan(lo: string | null, cutoff: string): Promise<Batch[]> {
    const blocks = await queryRows<{ b: number | string; n: number | string }>(
      this.ctx.ch,
      `SELECT _block_number AS b, count() AS n FROM ${this.node.access.from} WHERE ${rangePredicate(this.wm, lo, cutoff)} GROUP BY b ORDER BY b`,
    )
    return planBlockBatches(blocks.map((r) => ({ b: Number(r.b), n: Number(r.n) })), this.ctx.batchRows)
  }

  /** The next batch after `lo` (column watermark): up to batchRows rows, ending on a whole value. */
  private async nextColumnBatch(lo: string | null, cutoff: string): Promise<Batch | undefined> {
    const where = rangePredicate(this.wm, lo, cutoff)
    const [row] = await queryRows<{ v: string }>(
      this.ctx.ch,
      `SELECT toString(${watermarkExpr(this.wm)}) AS v FROM ${this.node.access.from} WHERE ${where} ORDER BY ${watermarkExpr(this.wm)} LIMIT 1 OFFSET ${this.ctx.batchRows - 1}`,
    )
    const hi = row?.v ?? cutoff
    const rows = await this.count(lo, hi)
    if (rows === 0 && hi === cutoff) return undefined
    return { hi, rows }
  }

  private async write(lo: string | null, batch: Batch): Promise<void> {
    const { ctx } = this
    const p = this.node.progress
    // Block-number batches are planned again identically after a restart (the rows at or before
    // the cutoff never change), so only a column watermark records the batch before writing it.
    if (this.wm.kind === 'column') {
      p.pending_to = batch.hi
      await ctx.save(ctx.nodes.map((n) => n.progress))
    }
    const predicate = rangePredicate(this.wm, lo, batch.hi)
    const select = renderSource(ctx.def.template, (ownAlias) => filteredSource(this.node.access.from, predicate, ownAlias ? null : ctx.def.source))
    const token = batchToken(ctx.def.name, ctx.jobId, p.node, lo, batch.hi)
    await runCommand(ctx.ch, insertSelectSql(ctx.def.target.name, ctx.insertColumns, select, dedupSettings(ctx.ch, token), { database: ctx.ch.database }), { view: ctx.def.name })
    if (failpointsArmed) await failpoint('backfill.after-insert', { view: ctx.def.name, node: p.node, lo, hi: batch.hi, rows: batch.rows })
    p.last_position = batch.hi
    p.pending_to = null
    p.processed_rows = Math.min(p.total_rows, p.processed_rows + batch.rows)
    metrics.mvBackfillRows.inc({ view: ctx.def.name }, batch.rows)
    await ctx.save(ctx.nodes.map((n) => n.progress))
    if (failpointsArmed) await failpoint('backfill.after-progress', { view: ctx.def.name, node: p.node, lo, hi: batch.hi, rows: batch.rows })
  }

  /** Runs the node's remaining batches. @returns false when stopped by the signal. */
  async run(): Promise<boolean> {
    const { ctx } = this
    const p = this.node.progress
    if (p.cutoff === null) return true
    if (p.total_rows === 0 && p.last_position === null && p.pending_to === null) {
      p.total_rows = await countUpTo(ctx.ch, this.node.access, this.wm, p.cutoff)
      await ctx.save(ctx.nodes.map((n) => n.progress))
    }
    if (p.pending_to !== null) {
      // Stopped while writing this batch: write it again over the same range and token.
      const hi = p.pending_to
      await this.write(p.last_position, { hi, rows: await this.count(p.last_position, hi) })
    }
    if (this.wm.kind === 'insert_order') {
      for (const batch of await this.blockPlan(p.last_position, p.cutoff)) {
        if (ctx.signal.aborted) return false
        await this.write(p.last_position, batch)
        await pause(ctx.pauseMs, ctx.signal)
      }
    } else {
      for (;;) {
        if (ctx.signal.aborted) return false
        if (p.last_position === p.cutoff) break
        const batch = await this.nextColumnBatch(p.last_position, p.cutoff)
        if (!batch) break
        await this.write(p.last_position, batch)
        await pause(ctx.pauseMs, ctx.signal)
      }
    }
    p.processed_rows = p.total_rows
    return !ctx.signal.aborted
  }
}

/**
 * Backfills every node in turn, from each node's last position up to its cutoff.
 * @returns true when every node is done, false when stopped by the signal (progress is saved).
 * @throws ClickHouseError when a batch fails (progress up to the last good batch is saved).
 */
export async function runBackfill(ctx: BackfillContext): Promise<boolean> {
  for (const node of ctx.nodes) {
    const done = await new NodeBackfill(ctx, node).run()
    if (!done) return false
    ctx.log.info({ view: ctx.def.name, node: node.progress.node, rows: node.progress.total_rows }, 'backfill of node done')
  }
  await ctx.save(ctx.nodes.map((n) => n.progress))
  return true
}
