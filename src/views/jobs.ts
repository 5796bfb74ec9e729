/**
 * Job records of views, kept in a ClickHouse table (contract: "Jobs are kept in a ClickHouse
 * table"), `<db>.flowhouse_mv_jobs` by default: a ReplacingMergeTree(version) ordered by view
 * name, one row per update, read with FINAL; a drop writes a `deleted = 1` row. The daemon keeps
 * every job in memory and writes each change through, so reads never wait on ClickHouse.
 * The DDL and queries stay within what ClickHouse 18.16 understands (no DateTime64, no Nullable
 * in the ORDER BY, times as epoch milliseconds).
 */
import type { ClickHouse } from '../clickhouse/client.ts'
import { queryRows, runCommand } from '../clickhouse/query.ts'
import { qualifiedName } from '../clickhouse/sql.ts'
import { toClickHouseError } from '../clickhouse/errors.ts'
import type { NodeProgress, ViewDefinition, ViewJob, Watermark } from './types.ts'

interface StoredJob {
  name: string
  version: number | string
  deleted: number | string
  id: number | string
  status: string
  source_table: string
  target_table: string
  cluster_name: string
  cutoff: string
  total_rows: number | string
  processed_rows: number | string
  last_position: string
  error_message: string
  created_at_ms: number | string
  updated_at_ms: number | string
  nodes: string
  watermark: string
  source_version: number | string
  attempts: number | string
  statements: string
  definition: string
}

/** `CREATE TABLE IF NOT EXISTS` of the jobs table. */
export function jobsTableSql(database: string, table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName(database, table)} (
  name String, version UInt64, deleted UInt8, id UInt64, status String,
  source_table String, target_table String, cluster_name String,
  cutoff String, total_rows UInt64, processed_rows UInt64, last_position String, error_message String,
  created_at_ms UInt64, updated_at_ms UInt64,
  nodes String, watermark String, source_version Int64, attempts UInt32, statements String, definition String
) ENGINE = ReplacingMergeTree(version) ORDER BY name`
}

/** processed / total × 100 with one decimal; 100 when there is nothing to backfill. */
export function progressPercent(processed: number, total: number): number {
  if (total <= 0) return 100
  return Math.min(100, Math.round((processed / total) * 1000) / 10)
}

/** Recomputes a job's totals (sum over nodes) and its progress. */
export function withTotals(job: ViewJob): ViewJob {
  const total = job.nodes.reduce((s, n) => s + n.total_rows, 0)
  const processed = job.nodes.reduce((s, n) => s + n.processed_rows, 0)
  const single = job.nodes.length === 1 ? job.nodes[0] : undefined
  return {
    ...job,
    total_rows: total,
    processed_rows: processed,
    last_position: single ? single.last_position : job.last_position,
    progress_percent: job.status === 'completed' ? 100 : progressPercent(processed, total),
  }
}

function toRow(job: ViewJob, version: number, deleted: boolean): StoredJob {
  return {
    name: job.name,
    version,
    deleted: deleted ? 1 : 0,
    id: job.id,
    status: job.status,
    source_table: job.source_table,
    target_table: job.target_table,
    cluster_name: job.cluster_name ?? '',
    cutoff: job.cutoff ?? '',
    total_rows: job.total_rows,
    processed_rows: job.processed_rows,
    last_position: job.last_position ?? '',
    error_message: job.error_message ?? '',
    created_at_ms: Date.parse(job.created_at),
    updated_at_ms: Date.parse(job.updated_at),
    nodes: JSON.stringify(job.nodes),
    watermark: JSON.stringify(job.watermark),
    source_version: job.source_version ?? -1,
    attempts: job.attempts,
    statements: JSON.stringify(job.statements),
    definition: JSON.stringify(job.definition),
  }
}

function fromRow(r: StoredJob): ViewJob {
  const nullable = (s: string): string | null => (s === '' ? null : s)
  const job: ViewJob = {
    id: Number(r.id),
    name: r.name,
    source_table: r.source_table,
    target_table: r.target_table,
    status: r.status as ViewJob['status'],
    cluster_name: nullable(r.cluster_name),
    nodes: JSON.parse(r.nodes || '[]') as NodeProgress[],
    watermark: JSON.parse(r.watermark || '{"kind":"insert_order","column":null,"type":null}') as Watermark,
    cutoff: nullable(r.cutoff),
    total_rows: Number(r.total_rows),
    processed_rows: Number(r.processed_rows),
    last_position: nullable(r.last_position),
    progress_percent: 0,
    source_version: Number(r.source_version) < 0 ? null : Number(r.source_version),
    attempts: Number(r.attempts),
    statements: JSON.parse(r.statements || '[]') as string[],
    error_message: nullable(r.error_message),
    definition: JSON.parse(r.definition) as ViewDefinition,
    created_at: new Date(Number(r.created_at_ms)).toISOString(),
    updated_at: new Date(Number(r.updated_at_ms)).toISOString(),
  }
  return withTotals(job)
}

/** Job records in ClickHouse, cached in memory. */
export class JobStore {
  readonly #ch: ClickHouse
  readonly #table: string
  readonly #jobs = new Map<string, ViewJob>()
  #lastVersion = 0
  #lastId = 0

  /** @param table the jobs table in the handle's database (created by open()). */
  constructor(ch: ClickHouse, table: string) {
    this.#ch = ch
    this.#table = table
  }

  /**
   * Creates the table when missing and loads every live job.
   * @throws ClickHouseError when ClickHouse refuses or cannot be reached.
   */
  async open(): Promise<void> {
    await runCommand(this.#ch, jobsTableSql(this.#ch.database, this.#table), { table: this.#table })
    // FINAL, then the deleted filter here: old servers may apply a WHERE before FINAL collapses rows.
    const rows = await queryRows<StoredJob>(this.#ch, `SELECT * FROM ${qualifiedName(this.#ch.database, this.#table)} FINAL`)
    for (const r of rows) {
      this.#lastVersion = Math.max(this.#lastVersion, Number(r.version))
      this.#lastId = Math.max(this.#lastId, Number(r.id))
      if (Number(r.deleted) === 0) this.#jobs.set(r.name, fromRow(r))
    }
  }

  /** Every live job, by name. */
  list(): ViewJob[] {
    return [...this.#jobs.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  /** The live job of a view, or undefined. */
  get(name: string): ViewJob | undefined {
    return this.#jobs.get(name)
  }

  /** A fresh job id (one more than any id seen). */
  nextId(): number {
    return ++this.#lastId
  }

  #version(): number {
    this.#lastVersion = Math.max(this.#lastVersion + 1, Date.now() * 1000)
    return this.#lastVersion
  }

  async #write(job: ViewJob, deleted: boolean): Promise<void> {
    try {
      await this.#ch.client.insert({ table: qualifiedName(this.#ch.database, this.#table), values: [toRow(job, this.#version(), deleted)], format: 'JSONEachRow' })
    } catch (error) {
      throw toClickHouseError(error, { table: this.#table, view: job.name })
    }
  }

  /**
   * Stores a new state of a job (totals and progress recomputed, updated_at now).
   * @returns the stored job.
   * @throws ClickHouseError when the write fails (the in-memory job is updated anyway, so the
   *   daemon keeps working; the next successful write persists it).
   */
  async save(job: ViewJob): Promise<ViewJob> {
    const next = withTotals({ ...job, updated_at: new Date().toISOString() })
    this.#jobs.set(job.name, next)
    await this.#write(next, false)
    return next
  }

  /** Removes a job (a `deleted = 1` row). @throws ClickHouseError when the write fails. */
  async remove(name: string): Promise<void> {
    const job = this.#jobs.get(name)
    if (!job) return
    this.#jobs.delete(name)
    await this.#write({ ...job, updated_at: new Date().toISOString() }, true)
  }
}
