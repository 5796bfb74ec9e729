/**
 * Shapes of the materialized-view stage: a view's normalised definition (from a module or from
 * the API), its job record (kept in ClickHouse), its status and its refresh log.
 */
import type { ColumnDef, DeclarativeView, EngineName, ViewRefreshConfig } from '../model/types.ts'

/**
 * A view as the manager runs it, whether declared in a module or created through the API.
 * Serialisable: stored as JSON in the job record so API views survive restarts.
 */
export interface ViewDefinition {
  /** The name users address the view by (API, CLI). For a declarative view, also the VIEW they query. */
  name: string
  /** Where it was declared. */
  origin: 'module' | 'api'
  /** Module file, for module views. */
  module?: string
  /** Source table (in the daemon's database). */
  source: string
  /**
   * The SELECT with `{source_table}` where the source is read; the manager puts the table, or a
   * filtered subquery of it (backfill batches, watermark), in its place.
   */
  template: string
  /** The table the view writes to. */
  target: { name: string; engine: EngineName; orderByFields: string[]; columns?: ColumnDef[]; settings?: Record<string, string | number> }
  /** Fully defaulted refresh options. */
  refresh: Required<Pick<ViewRefreshConfig, 'mode' | 'timezone' | 'strategy' | 'gracePeriodSeconds'>> & Pick<ViewRefreshConfig, 'schedule'>
  /** Present for declarative views. */
  declarative?: DeclarativeView
  /** Watermark column; absent: ClickHouse's insert order (`_block_number`), or the source's first ORDER BY column where that is unavailable. */
  watermark?: string
  /** Requested cluster: a name or 'auto'. Absent: single node (unless FLOWHOUSE_MV_CLUSTER is set). */
  cluster?: string
  /** Distributed table name when clustered. @default `<name>_dist` */
  distributed?: string
  /** Backfill the source's existing rows when the view is created. @default true */
  backfill: boolean
  /** Source rows per backfill batch. @default ViewsOptions.batchRows */
  batchRows?: number
}

/** The ClickHouse objects of a view. */
export interface ViewObjects {
  /** The MATERIALIZED VIEW (streaming views only). */
  mv?: string
  /** The target table. */
  target: string
  /** The merging VIEW of a declarative view. */
  queryView?: string
  /** The Distributed table over the target (clustered views). */
  dist?: string
  /** What the query helper and statistics read: the query view, else the Distributed table, else the target. */
  readable: string
}

/** Job status (contract: pending, creating, backfilling, optimizing, completed, failed, paused). */
export type JobStatus = 'pending' | 'creating' | 'backfilling' | 'optimizing' | 'completed' | 'failed' | 'paused'

/** How the cutoff is taken. */
export interface Watermark {
  /** `insert_order`: ClickHouse block numbers (`_block_number`); `column`: a key or insert-time column. */
  kind: 'insert_order' | 'column'
  /** The column (kind `column`). */
  column: string | null
  /** Its ClickHouse type, for casting positions (kind `column`). */
  type: string | null
}

/** Backfill progress on one node (one entry on a single server). */
export interface NodeProgress {
  /** `local`, or `host:port` of a cluster node. */
  node: string
  /** The cutoff: rows at or before it are backfilled, rows after it reach the view through the MV. null: nothing to backfill. */
  cutoff: string | null
  total_rows: number
  processed_rows: number
  /** Last position (block number or watermark value) whose rows are in the target. null: none yet. */
  last_position: string | null
  /** End of the batch being written; a resumed job redoes (last_position, pending_to] with the same dedup token. */
  pending_to: string | null
}

/** A view's job record, as stored and as returned by the API (snake_case, like the documented API). */
export interface ViewJob {
  id: number
  name: string
  source_table: string
  target_table: string
  status: JobStatus
  cluster_name: string | null
  nodes: NodeProgress[]
  watermark: Watermark
  /** Single node: the cutoff; cluster: the cluster-wide cutoff. */
  cutoff: string | null
  total_rows: number
  processed_rows: number
  last_position: string | null
  /** processed / total × 100, one decimal; 100 when there was nothing to backfill. */
  progress_percent: number
  /** Source version (its highest block number) the view reflects, for scheduled and manual views. */
  source_version: number | null
  /** Times the backfill was started or resumed. */
  attempts: number
  /** DDL statements run to create the view, in order. */
  statements: string[]
  error_message: string | null
  definition: ViewDefinition
  created_at: string
  updated_at: string
}

/** Freshness (contract: fresh, stale or refreshing, measured against the source's newest data). */
export type ViewState = 'fresh' | 'stale' | 'refreshing'

export interface ViewStatus {
  state: ViewState
  /** End of the last successful refresh or backfill, ISO-8601; null if none yet. */
  lastRefresh: string | null
  /** When the source first held data the view does not reflect, ISO-8601; null when fresh. */
  staleSince: string | null
  /** Seconds since staleSince (0 when fresh). */
  stalenessSeconds: number
  gracePeriodSeconds: number
  /** Fresh, or stale for no longer than the grace period. */
  usable: boolean
  /** Highest block number of the source now, and the one the view reflects (scheduled and manual views). */
  sourceVersion: number | null
  viewVersion: number | null
}

/** One refresh, backfill or full rebuild. */
export interface RefreshRecord {
  view: string
  /** `backfill`, `full` (replace), `incremental` (append). */
  kind: 'backfill' | 'full' | 'incremental'
  status: 'ok' | 'error'
  startedAt: number
  durationMs: number
  /** Source rows read (backfill) or rows written (refresh). */
  rows: number
  error?: string
}

/** The refresh log of one view (contract: count, average and last duration in ms, last time). */
export interface RefreshSummary {
  refresh_count: number
  avg_refresh_time_ms: number
  last_refresh_time_ms: number | null
  last_refreshed_at: string | null
  failures: number
}
