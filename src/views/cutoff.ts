/**
 * Phase 1 of the two-phase backfill: take the cutoff and create the MV so that every source row
 * is either at or before the cutoff (backfilled) or after it (seen by the MV) — never both,
 * never neither. The rule, documented in docs/views.md:
 *
 *   1. wait for a moment without INSERTs into the source (bounded; only to avoid retries);
 *   2. read the source's state S1: its highest block number (insert order), or max(column) and
 *      count() (column watermark);
 *   3. create the MV (with a column watermark: `WHERE column > cutoff`);
 *   4. wait until every INSERT into the source that started before the MV existed has finished
 *      (system.processes) — an INSERT binds its dependent views when it starts;
 *   5. read the state S2. S1 = S2 means nothing was committed between 2 and 4, so every row
 *      committed before the MV existed is at or before the cutoff, and every later row comes from
 *      an INSERT that started after the MV existed. Otherwise drop the MV, empty the target and
 *      try again.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import type { ClickHouse } from '../clickhouse/client.ts'
import { queryRows } from '../clickhouse/query.ts'
import { sqlString } from '../clickhouse/sql.ts'
import { RefreshError } from '../errors.ts'
import { runningInserts, watermarkExpr, type SourceAccess } from './source.ts'
import type { Watermark } from './types.ts'

/** What takeCutoff needs. */
export interface CutoffContext {
  ch: ClickHouse
  database: string
  source: string
  watermark: Watermark
  /** The source as one place: the server, or every shard at once (`remote('a,b', ...)`). */
  all: SourceAccess
  /** Each node separately, for the INSERT drain. */
  nodes: SourceAccess[]
  /** Creates the MV for a cutoff (null: the source is empty, so no filter). */
  create(cutoff: string | null): Promise<void>
  /** Drops the MV and empties the target after a failed attempt. */
  undo(): Promise<void>
  attempts: number
  drainTimeoutMs: number
  log: Logger
  signal?: AbortSignal
}

/** Source state read before and after creating the MV; equal states mean no commit in between. */
export interface SourceState {
  /** Comparable text of the state. */
  key: string
  /** The cutoff this state gives, or null when the source holds no rows. */
  cutoff: string | null
}


/**
 * The source's state: `max(max_block_number)` of its parts (insert order), or
 * `toString(max(<column>))` and `count()` (column watermark).
 * @throws ClickHouseError.
 */
export async function readState(ch: ClickHouse, all: SourceAccess, database: string, source: string, wm: Watermark): Promise<SourceState> {
  if (wm.kind === 'insert_order') {
    const [row] = await queryRows<{ v: number | string }>(ch, `SELECT max(max_block_number) AS v FROM ${all.system('parts')} WHERE database = ${sqlString(database)} AND table = ${sqlString(source)}`)
    const v = Number(row?.v ?? 0)
    return { key: String(v), cutoff: v > 0 ? String(v) : null }
  }
  const [row] = await queryRows<{ m: string; n: number | string }>(ch, `SELECT toString(max(${watermarkExpr(wm)})) AS m, count() AS n FROM ${all.from}`)
  const n = Number(row?.n ?? 0)
  return { key: `${row?.m}|${n}`, cutoff: n > 0 ? (row?.m as string) : null }
}

async function waitForQuiet(ctx: CutoffContext, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs
  while (Date.now() < deadline) {
    let busy = 0
    for (const node of ctx.nodes) busy += await runningInserts(ctx.ch, node, ctx.database, ctx.source, 0)
    if (busy === 0) return
    await sleep(10)
  }
}

async function drain(ctx: CutoffContext, createdAt: number): Promise<void> {
  const deadline = Date.now() + ctx.drainTimeoutMs
  for (;;) {
    // Anything running for longer than the time since the MV was created started before it
    // (one second of slack for clock and network differences: waiting longer is always safe).
    const olderThan = (Date.now() - createdAt) / 1000 - 1
    let pending = 0
    for (const node of ctx.nodes) pending += await runningInserts(ctx.ch, node, ctx.database, ctx.source, olderThan)
    if (pending === 0) return
    if (Date.now() > deadline) {
      throw new RefreshError(`view over "${ctx.source}": an INSERT into the source that started before the materialized view existed is still running after ${ctx.drainTimeoutMs} ms; retry when it has finished`, { retriable: true, context: { table: ctx.source } })
    }
    await sleep(25)
  }
}

/**
 * Takes the cutoff and leaves the MV in place (see the rule at the top of this file).
 * @returns the cutoff (null: the source was empty, nothing to backfill) and the attempts it took.
 * @throws RefreshError (retriable) when every attempt saw a concurrent commit or an INSERT did
 *   not finish in time; ClickHouseError when ClickHouse fails.
 */
export async function takeCutoff(ctx: CutoffContext): Promise<{ cutoff: string | null; attempts: number }> {
  for (let attempt = 1; attempt <= ctx.attempts; attempt++) {
    if (ctx.signal?.aborted) throw new RefreshError('stopped while creating the view', { retriable: true })
    await waitForQuiet(ctx, 2_000)
    const before = await readState(ctx.ch, ctx.all, ctx.database, ctx.source, ctx.watermark)
    await ctx.create(before.cutoff)
    const createdAt = Date.now()
    await drain(ctx, createdAt)
    const after = await readState(ctx.ch, ctx.all, ctx.database, ctx.source, ctx.watermark)
    if (after.key === before.key) return { cutoff: before.cutoff, attempts: attempt }
    ctx.log.debug({ attempt, before: before.key, after: after.key }, 'the source was written while the view was created; taking the cutoff again')
    await ctx.undo()
    await sleep(10 + Math.floor(Math.random() * 90))
  }
  throw new RefreshError(
    `view over "${ctx.source}": could not take a clean cutoff in ${ctx.attempts} attempts because the source was written during each one; retry, or create the view while ingestion is lighter`,
    { retriable: true, context: { table: ctx.source } },
  )
}
