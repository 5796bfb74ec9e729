/**
 * ViewDefinition from the two places a view is declared: a pipeline module (a MaterializedView
 * object) and the HTTP API (the documented request shape of seeds/003: name, source_table,
 * engine, order_by, columns, select_query with a `{source_table}` placeholder, cluster — plus
 * refresh, watermark, backfill and, for declarative views, from/group_by/compute).
 * API requests are checked by the same model rules as modules (src/model), so the messages are
 * the same.
 */
import { canonicalColumnType } from '../clickhouse/column-type.ts'
import { ConfigError, FlowhouseError } from '../errors.ts'
import { ENGINES } from '../model/options.ts'
import type { EngineName, MaterializedViewLike } from '../model/types.ts'
import { MaterializedView } from '../model/view.ts'
import { renderSource, sourceTemplate, SOURCE_PLACEHOLDER } from './template.ts'
import type { ViewDefinition, ViewObjects } from './types.ts'

const STREAMING: ViewDefinition['refresh'] = { mode: 'streaming', timezone: 'UTC', strategy: 'replace', gracePeriodSeconds: 0 }

/**
 * The definition of a view declared in a module (already checked by the model).
 * @throws ConfigError when the SELECT never reads its source after FROM/JOIN.
 */
export function definitionFromModule(view: MaterializedViewLike, database: string, origin: ViewDefinition['origin'] = 'module', module?: string): ViewDefinition {
  const source = typeof view.source === 'string' ? view.source : view.source.name
  const refresh = view.refresh ? { ...STREAMING, ...view.refresh } : STREAMING
  const def: ViewDefinition = {
    name: view.name,
    origin,
    source,
    template: sourceTemplate(view.name, view.select, source, database),
    target: {
      name: view.target.name,
      engine: view.target.engine,
      orderByFields: [...view.target.orderByFields],
      ...(view.target.columns ? { columns: view.target.columns.map((c) => ({ name: c.name, type: c.type })) } : {}),
      ...(view.target.settings ? { settings: { ...view.target.settings } } : {}),
    },
    refresh: { mode: refresh.mode, timezone: refresh.timezone ?? 'UTC', strategy: refresh.strategy ?? 'replace', gracePeriodSeconds: refresh.gracePeriodSeconds ?? 0, ...(refresh.schedule ? { schedule: refresh.schedule } : {}) },
    backfill: true,
  }
  if (module !== undefined) def.module = module
  if (view.declarative) def.declarative = view.declarative
  if (view.watermark !== undefined) def.watermark = view.watermark
  if (view.cluster !== undefined) def.cluster = view.cluster
  return def
}

function badRequest(message: string, field: string): FlowhouseError {
  return new ConfigError(message, { field })
}

function engineOf(value: unknown): EngineName {
  if (value === undefined) return 'MergeTree'
  const name = typeof value === 'string' ? value.trim().replace(/\(\s*\)$/, '') : value
  if (typeof name !== 'string' || !(ENGINES as readonly string[]).includes(name)) {
    throw badRequest(`engine must be one of ${ENGINES.join(', ')} (got ${JSON.stringify(value)}); engine parameters are not accepted — ORDER BY comes from order_by`, 'engine')
  }
  return name as EngineName
}

function listOf(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter(Boolean)
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[]
  throw badRequest(`${field} must be a list of column names (got ${JSON.stringify(value)})`, field)
}

/** The body of POST /api/mv. Unknown fields are refused. */
export interface CreateViewRequest {
  name?: unknown
  source_table?: unknown
  target_table?: unknown
  distributed_table?: unknown
  engine?: unknown
  order_by?: unknown
  columns?: unknown
  select_query?: unknown
  cluster?: unknown
  refresh?: unknown
  watermark?: unknown
  backfill?: unknown
  batch_rows?: unknown
  filter?: unknown
  group_by?: unknown
  compute?: unknown
}

const REQUEST_FIELDS = new Set(['name', 'source_table', 'target_table', 'distributed_table', 'engine', 'order_by', 'columns', 'select_query', 'cluster', 'refresh', 'watermark', 'backfill', 'batch_rows', 'filter', 'group_by', 'compute'])

/**
 * The `columns` of a request with every type parsed against the column-type grammar and printed
 * by flowhouse (no caller text reaches the CREATE TABLE).
 * @throws ConfigError naming the field, e.g. `columns[1].type`.
 */
function columnsOf(value: unknown): Array<{ name: string; type: string }> {
  if (!Array.isArray(value) || value.length === 0 || value.length > 1_000) throw badRequest('columns must be a non-empty array (at most 1000) of { name, type }', 'columns')
  return value.map((column: unknown, i) => {
    if (typeof column !== 'object' || column === null || Array.isArray(column)) throw badRequest(`columns[${i}] must be an object { name, type }`, `columns[${i}]`)
    const { name, type, ...rest } = column as Record<string, unknown>
    const extra = Object.keys(rest)
    if (extra.length > 0) throw badRequest(`columns[${i}]: unknown field(s) ${extra.map((k) => JSON.stringify(k)).join(', ')}; a column is { name, type }`, `columns[${i}].${extra[0]}`)
    if (typeof name !== 'string') throw badRequest(`columns[${i}].name must be a column name`, `columns[${i}].name`)
    return { name, type: canonicalColumnType(type, { field: `columns[${i}].type` }) }
  })
}

function refreshOf(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object') throw badRequest(`refresh must be an object (got ${JSON.stringify(value)})`, 'refresh')
  const r = { ...(value as Record<string, unknown>) }
  if ('grace_period' in r) {
    r.gracePeriod = r.grace_period
    delete r.grace_period
  }
  return r
}

/**
 * The definition of a view created through POST /api/mv.
 * SQL form: `{ name, source_table, engine, order_by, columns?, select_query, target_table?, distributed_table?, cluster?, refresh?, watermark?, backfill?, batch_rows? }`;
 * `select_query` reads `{source_table}` (or names the source); the target defaults to `<name>_data`.
 * Declarative form: `{ name, source_table, group_by, compute, filter?, refresh?, ... }` (no select_query, engine or order_by).
 * @throws ConfigError (HTTP 400) for a missing or malformed field, with the model's message for rule violations.
 */
export function definitionFromRequest(body: CreateViewRequest, database: string): ViewDefinition {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a JSON object describing the view', 'body')
  const unknown = Object.keys(body).filter((k) => !REQUEST_FIELDS.has(k))
  if (unknown.length > 0) throw badRequest(`unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; accepted: ${[...REQUEST_FIELDS].join(', ')}`, unknown[0] as string)
  const { name, source_table: source } = body
  if (typeof name !== 'string' || name === '') throw badRequest('name is required', 'name')
  if (typeof source !== 'string' || source === '') throw badRequest('source_table is required', 'source_table')
  const cluster = body.cluster === null ? undefined : body.cluster
  if (cluster !== undefined && typeof cluster !== 'string') throw badRequest(`cluster must be a cluster name, "auto" or null (got ${JSON.stringify(cluster)})`, 'cluster')
  if (body.watermark !== undefined && typeof body.watermark !== 'string') throw badRequest('watermark must be a column name', 'watermark')
  const common = {
    name,
    refresh: refreshOf(body.refresh) as never,
    ...(typeof body.watermark === 'string' ? { watermark: body.watermark } : {}),
    ...(typeof cluster === 'string' ? { cluster } : {}),
  }
  let view: MaterializedView
  if (body.compute !== undefined || body.group_by !== undefined) {
    for (const field of ['select_query', 'engine', 'order_by', 'columns', 'target_table'] as const) {
      if (body[field] !== undefined) throw badRequest(`${field} does not apply to a declarative view (group_by and compute generate the SELECT and the target)`, field)
    }
    view = new MaterializedView({ ...common, from: source, groupBy: body.group_by as never, compute: body.compute as never, ...(body.filter !== undefined ? { filter: body.filter as string } : {}) })
  } else {
    const select = body.select_query
    if (typeof select !== 'string' || select.trim() === '') throw badRequest('select_query is required (a SELECT reading {source_table}), or group_by and compute for a declarative view', 'select_query')
    const orderBy = listOf(body.order_by, 'order_by')
    if (orderBy === undefined) throw badRequest('order_by is required: the ORDER BY columns of the target table', 'order_by')
    const target = body.target_table ?? `${name}_data`
    view = new MaterializedView({
      ...common,
      source,
      select: renderSource(select, source),
      target: { name: target as string, engine: engineOf(body.engine), orderByFields: orderBy, ...(body.columns !== undefined ? { columns: columnsOf(body.columns) } : {}) },
    })
  }
  const def = definitionFromModule(view, database, 'api')
  if (typeof body.select_query === 'string' && body.select_query.includes(SOURCE_PLACEHOLDER)) def.template = body.select_query
  if (body.distributed_table !== undefined) {
    if (typeof body.distributed_table !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(body.distributed_table)) throw badRequest('distributed_table must be a table name', 'distributed_table')
    def.distributed = body.distributed_table
  }
  if (body.backfill !== undefined) {
    if (typeof body.backfill !== 'boolean') throw badRequest('backfill must be true or false', 'backfill')
    def.backfill = body.backfill
  }
  if (body.batch_rows !== undefined) {
    if (!Number.isInteger(body.batch_rows) || (body.batch_rows as number) <= 0) throw badRequest('batch_rows must be a positive integer', 'batch_rows')
    def.batchRows = body.batch_rows as number
  }
  return def
}

/**
 * The ClickHouse objects of a view. A streaming view has an MV (`<name>`, or `<name>_mv` for a
 * declarative view); scheduled and manual views have none (their target is rebuilt or appended to).
 * @param cluster the resolved cluster, or null: clustered views get a Distributed table.
 */
export function objectsOf(def: ViewDefinition, cluster: string | null): ViewObjects {
  const objects: ViewObjects = { target: def.target.name, readable: def.target.name }
  if (def.refresh.mode === 'streaming') objects.mv = def.declarative ? def.declarative.mvName : def.name
  if (cluster) objects.dist = def.distributed ?? `${def.name}_dist`
  if (def.declarative) objects.queryView = def.declarative.queryView
  objects.readable = objects.queryView ?? objects.dist ?? objects.target
  return objects
}

/** Two definitions describe the same view (what is created in ClickHouse), ignoring where they come from. */
export function sameDefinition(a: ViewDefinition, b: ViewDefinition): boolean {
  const key = (d: ViewDefinition): string =>
    JSON.stringify([d.source, d.template.replace(/\s+/g, ' ').trim(), d.target, d.refresh, d.declarative ?? null, d.watermark ?? null, d.cluster ?? null, d.distributed ?? null])
  return key(a) === key(b)
}
