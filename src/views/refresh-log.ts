/**
 * The refresh log (contract seeds/004: per view, the refresh count, average and last duration in
 * milliseconds, and the last refresh time): one row per refresh, backfill or rebuild in
 * `<db>.flowhouse_mv_refresh_log`, summarised with one GROUP BY. The same events update the
 * `flowhouse_mv_*` metrics (src/metrics/metrics.ts).
 */
import type { ClickHouse } from '../clickhouse/client.ts'
import { toClickHouseError } from '../clickhouse/errors.ts'
import { queryRows, runCommand } from '../clickhouse/query.ts'
import { qualifiedName, sqlString } from '../clickhouse/sql.ts'
import { metrics } from '../metrics/metrics.ts'
import type { RefreshRecord, RefreshSummary } from './types.ts'

/** `CREATE TABLE IF NOT EXISTS` of the refresh log. */
export function refreshLogTableSql(database: string, table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName(database, table)} (
  view String, started_at_ms UInt64, duration_ms UInt64, kind String, status String, rows UInt64, error String
) ENGINE = MergeTree ORDER BY (view, started_at_ms)`
}

/** The summary of a view with no refresh yet. */
export const EMPTY_SUMMARY: RefreshSummary = { refresh_count: 0, avg_refresh_time_ms: 0, last_refresh_time_ms: null, last_refreshed_at: null, failures: 0 }

interface SummaryRow {
  view: string
  refresh_count: number | string
  avg_refresh_time_ms: number | string
  last_refresh_time_ms: number | string
  last_refreshed_at_ms: number | string
  failures: number | string
}

/** Refresh log in ClickHouse, and the metrics of each refresh. */
export class RefreshLog {
  readonly #ch: ClickHouse
  readonly #table: string

  /** @param table the log table in the handle's database (created by open()). */
  constructor(ch: ClickHouse, table: string) {
    this.#ch = ch
    this.#table = table
  }

  /** Creates the table when missing. @throws ClickHouseError. */
  async open(): Promise<void> {
    await runCommand(this.#ch, refreshLogTableSql(this.#ch.database, this.#table), { table: this.#table })
  }

  /**
   * Records one refresh: a row in the log, and `flowhouse_mv_refreshes_total`,
   * `flowhouse_mv_refresh_duration_seconds`, `flowhouse_mv_last_refresh_*` (successes only for
   * the last two). Never throws: a failed log write is returned as the error.
   */
  async record(entry: RefreshRecord): Promise<Error | undefined> {
    const seconds = entry.durationMs / 1000
    metrics.mvRefreshes.inc({ view: entry.view, kind: entry.kind, status: entry.status })
    metrics.mvRefreshDuration.observe({ view: entry.view, kind: entry.kind }, seconds)
    if (entry.status === 'ok') {
      metrics.mvLastRefreshDuration.set({ view: entry.view }, seconds)
      metrics.mvLastRefreshTime.set({ view: entry.view }, (entry.startedAt + entry.durationMs) / 1000)
    }
    try {
      await this.#ch.client.insert({
        table: qualifiedName(this.#ch.database, this.#table),
        format: 'JSONEachRow',
        values: [{ view: entry.view, started_at_ms: entry.startedAt, duration_ms: Math.round(entry.durationMs), kind: entry.kind, status: entry.status, rows: entry.rows, error: entry.error ?? '' }],
      })
      return undefined
    } catch (error) {
      return toClickHouseError(error, { table: this.#table, view: entry.view })
    }
  }

  /**
   * Count, average and last duration (ms) and last time of each view's successful refreshes,
   * plus its failures. Views without a refresh are absent from the map.
   * @throws ClickHouseError.
   */
  async summaries(views?: readonly string[]): Promise<Map<string, RefreshSummary>> {
    const where = views ? `WHERE view IN (${views.length ? views.map(sqlString).join(', ') : "''"})` : ''
    const rows = await queryRows<SummaryRow>(
      this.#ch,
      `SELECT view, countIf(status = 'ok') AS refresh_count, avgIf(duration_ms, status = 'ok') AS avg_refresh_time_ms,
              argMaxIf(duration_ms, started_at_ms, status = 'ok') AS last_refresh_time_ms,
              maxIf(started_at_ms + duration_ms, status = 'ok') AS last_refreshed_at_ms, countIf(status != 'ok') AS failures
       FROM ${qualifiedName(this.#ch.database, this.#table)} ${where} GROUP BY view`,
    )
    const out = new Map<string, RefreshSummary>()
    for (const r of rows) {
      const count = Number(r.refresh_count)
      out.set(r.view, {
        refresh_count: count,
        avg_refresh_time_ms: count > 0 ? Math.round(Number(r.avg_refresh_time_ms) * 10) / 10 : 0,
        last_refresh_time_ms: count > 0 ? Number(r.last_refresh_time_ms) : null,
        last_refreshed_at: count > 0 ? new Date(Number(r.last_refreshed_at_ms)).toISOString() : null,
        failures: Number(r.failures),
      })
    }
    return out
  }

  /** Deletes a view's log rows (a dropped view takes its history with it). Mutation; never throws. */
  async forget(view: string): Promise<void> {
    await runCommand(this.#ch, `ALTER TABLE ${qualifiedName(this.#ch.database, this.#table)} DELETE WHERE view = ${sqlString(view)}`).catch(() => undefined)
  }
}
