/**
 * Metadata and statistics of a view (contract seeds/000 "get_metadata", "get_statistics"): its
 * definition, engine, columns and dependencies, and the rows, bytes and parts of its target from
 * system.parts (every shard's, for a clustered view).
 */
import type { ClickHouse } from '../clickhouse/client.ts'
import { queryRows } from '../clickhouse/query.ts'
import { sqlString } from '../clickhouse/sql.ts'
import { remoteTable } from './ddl.ts'
import type { ViewJob, ViewObjects } from './types.ts'

export interface ViewMetadata {
  name: string
  origin: 'module' | 'api'
  module: string | null
  /** The SELECT as declared, `{source_table}` marking the source. */
  select: string
  source_table: string
  target_table: string
  engine: string
  order_by: string[]
  refresh: ViewJob['definition']['refresh']
  declarative: ViewJob['definition']['declarative'] | null
  watermark: ViewJob['watermark']
  cluster: string | null
  objects: ViewObjects
  /** Columns of what the query helper reads. */
  columns: Array<{ name: string; type: string }>
  /** What the view reads from and what it creates; `dependents`: other ClickHouse views reading its target. */
  dependencies: { source: string; creates: string[]; dependents: string[] }
}

export interface ViewStatistics {
  rows: number
  bytes: number
  parts: number
  /** Where the figures come from: `system.parts` of the server, or of every shard. */
  scope: 'server' | 'cluster'
}

/** Columns of a table or view, in order. @throws ClickHouseError. */
export async function columnsOf(ch: ClickHouse, table: string): Promise<Array<{ name: string; type: string }>> {
  return queryRows<{ name: string; type: string }>(ch, `SELECT name, type FROM system.columns WHERE database = ${sqlString(ch.database)} AND table = ${sqlString(table)}`)
}

/** Metadata of a view. @throws ClickHouseError. */
export async function viewMetadata(ch: ClickHouse, job: ViewJob, objects: ViewObjects): Promise<ViewMetadata> {
  const def = job.definition
  const creates = [objects.mv, objects.target, objects.queryView, objects.dist].filter((x): x is string => typeof x === 'string')
  const dependents = await queryRows<{ name: string }>(
    ch,
    `SELECT name FROM system.tables WHERE database = ${sqlString(ch.database)} AND has(dependencies_table, ${sqlString(objects.target)}) AND name NOT IN (${creates.map(sqlString).join(', ')})`,
  ).catch(() => [] as Array<{ name: string }>)
  return {
    name: def.name,
    origin: def.origin,
    module: def.module ?? null,
    select: def.template,
    source_table: def.source,
    target_table: def.target.name,
    engine: def.target.engine,
    order_by: def.target.orderByFields,
    refresh: def.refresh,
    declarative: def.declarative ?? null,
    watermark: job.watermark,
    cluster: job.cluster_name,
    objects,
    columns: await columnsOf(ch, objects.readable),
    dependencies: { source: def.source, creates, dependents: dependents.map((d) => d.name) },
  }
}

/** Rows, bytes and parts of the target's active parts. @throws ClickHouseError. */
export async function viewStatistics(ch: ClickHouse, job: ViewJob): Promise<ViewStatistics> {
  const nodes = job.nodes.map((n) => n.node).filter((n) => n !== 'local')
  const parts = nodes.length > 0 ? remoteTable(nodes.join(','), 'system', 'parts') : 'system.parts'
  const [row] = await queryRows<{ rows: number | string; bytes: number | string; parts: number | string }>(
    ch,
    `SELECT sum(rows) AS rows, sum(bytes_on_disk) AS bytes, count() AS parts FROM ${parts} WHERE active AND database = ${sqlString(ch.database)} AND table = ${sqlString(job.target_table)}`,
  )
  return { rows: Number(row?.rows ?? 0), bytes: Number(row?.bytes ?? 0), parts: Number(row?.parts ?? 0), scope: nodes.length > 0 ? 'cluster' : 'server' }
}
