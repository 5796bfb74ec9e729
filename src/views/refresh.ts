/**
 * Refreshes of scheduled and manual views (contract seeds/002, 004):
 *   - `replace` (full): the SELECT over the whole source fills a fresh copy of the target, which
 *     is then swapped in with one statement — EXCHANGE TABLES where the engine has it (atomic),
 *     else one RENAME of both tables — so readers see the old rows or the new rows, never a
 *     partial table;
 *   - `append` (incremental): the rows inserted since the last refresh — block numbers, or
 *     watermark values, in (last, now] — are aggregated and appended with a dedup token, so a
 *     retried refresh does not count them twice.
 */
import type { ClickHouse } from '../clickhouse/client.ts'
import { queryRows, runCommand } from '../clickhouse/query.ts'
import { dedupSettings } from './backfill.ts'
import { createLikeSql, dropSql, exchangeSql, filteredSource, insertSelectSql, qn, renameSwapSql } from './ddl.ts'
import { readState } from './cutoff.ts'
import { localAccess, rangePredicate, sourceVersion } from './source.ts'
import { renderSource } from './template.ts'
import type { ViewDefinition, Watermark } from './types.ts'

/** Suffixes of the swap's temporary tables. */
export const NEW_SUFFIX = '__fh_new'
export const OLD_SUFFIX = '__fh_old'

/** What a refresh did. */
export interface RefreshOutcome {
  /** Rows in the target after a replace, or rows appended. */
  rows: number
  /** Source version the view now reflects. */
  version: number
  /** Watermark position reached (append with a column watermark). */
  position: string | null
}

/** Whether the engine can EXCHANGE TABLES (probed once per handle). */
const exchangeSupport = new WeakMap<ClickHouse, boolean>()

async function swap(ch: ClickHouse, target: string, fresh: string): Promise<void> {
  const ctx = { database: ch.database }
  if (exchangeSupport.get(ch) !== false) {
    try {
      await runCommand(ch, exchangeSql(target, fresh, ctx))
      exchangeSupport.set(ch, true)
      await runCommand(ch, dropSql(fresh, { ...ctx, cluster: null }))
      return
    } catch (error) {
      if (exchangeSupport.get(ch) === true) throw error
      exchangeSupport.set(ch, false)
    }
  }
  const old = `${target}${OLD_SUFFIX}`
  await runCommand(ch, dropSql(old, { ...ctx, cluster: null }))
  await runCommand(ch, renameSwapSql(target, fresh, old, ctx))
  await runCommand(ch, dropSql(old, { ...ctx, cluster: null }))
}

/**
 * Full refresh: rebuilds the target from the whole source into `<target>__fh_new` and swaps it in.
 * @returns rows now in the target and the source version read before the rebuild (rows
 *   committed during the rebuild may be in it too; the status errs on the side of stale).
 * @throws ClickHouseError; the live target is untouched when the rebuild fails.
 */
export async function replaceRefresh(ch: ClickHouse, def: ViewDefinition, insertColumns: readonly string[]): Promise<RefreshOutcome> {
  const ctx = { database: ch.database, cluster: null }
  const version = await sourceVersion(ch, localAccess(ch.database, def.source), ch.database, def.source)
  const fresh = `${def.target.name}${NEW_SUFFIX}`
  await runCommand(ch, dropSql(fresh, ctx))
  await runCommand(ch, createLikeSql(fresh, def.target.name, ctx))
  try {
    const select = renderSource(def.template, qn(ctx, def.source))
    await runCommand(ch, insertSelectSql(fresh, insertColumns, select, {}, ctx), { view: def.name })
    const [row] = await queryRows<{ n: number | string }>(ch, `SELECT count() AS n FROM ${qn(ctx, fresh)}`)
    await swap(ch, def.target.name, fresh)
    return { rows: Number(row?.n ?? 0), version, position: null }
  } catch (error) {
    await runCommand(ch, dropSql(fresh, ctx)).catch(() => undefined)
    throw error
  }
}

/**
 * Incremental refresh: appends what the source received since `last` (a source version for
 * insert order, a watermark value for a column watermark; null: from the start).
 * @returns rows appended (source rows read), the new version and position.
 * @throws ClickHouseError.
 */
export async function appendRefresh(ch: ClickHouse, def: ViewDefinition, wm: Watermark, insertColumns: readonly string[], last: { version: number | null; position: string | null }, jobId: number): Promise<RefreshOutcome> {
  const ctx = { database: ch.database }
  const access = localAccess(ch.database, def.source)
  const version = await sourceVersion(ch, access, ch.database, def.source)
  let lo: string | null
  let hi: string | null
  if (wm.kind === 'insert_order') {
    lo = last.version !== null && last.version > 0 ? String(last.version) : null
    hi = String(version)
    if (last.version !== null && version <= last.version) return { rows: 0, version, position: null }
  } else {
    const state = await readState(ch, access, ch.database, def.source, wm)
    lo = last.position
    hi = state.cutoff
    if (hi === null || hi === lo) return { rows: 0, version, position: lo }
  }
  const predicate = rangePredicate(wm, lo, hi)
  const [counted] = await queryRows<{ n: number | string }>(ch, `SELECT count() AS n FROM ${access.from}${predicate ? ` WHERE ${predicate}` : ''}`)
  const select = renderSource(def.template, (ownAlias) => filteredSource(access.from, predicate, ownAlias ? null : def.source))
  const token = `flowhouse:mv:${def.name}:${jobId}:append:${lo ?? ''}-${hi}`
  await runCommand(ch, insertSelectSql(def.target.name, insertColumns, select, dedupSettings(ch, token), ctx), { view: def.name })
  return { rows: Number(counted?.n ?? 0), version, position: wm.kind === 'column' ? hi : null }
}
