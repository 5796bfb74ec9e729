/**
 * MaterializedView: a ClickHouse materialized view writing TO a target table, declared with SQL
 * or declaratively (from / filter / groupBy / compute, see declarative.ts).
 */
import { MODEL_KIND, modelKindOf } from './brand.ts'
import { checkView } from './check-view.ts'
import { checkIdentifier, configError, type Owner } from './config-error.ts'
import { checkDeclarativeFields, compileDeclarative, normalizeRefresh } from './declarative.ts'
import { DEFAULT_ENGINE, type DeclarativeViewOptions, type MaterializedViewOptions } from './options.ts'
import type { DeclarativeView, IngestPipelineLike, MaterializedViewLike, OlapTableLike, ViewRefreshConfig } from './types.ts'

/**
 * A materialized view.
 *
 * SQL form: `new MaterializedView({ name, select, source, target: { name, engine?,
 * orderByFields, columns?, settings? }, refresh?, watermark?, cluster? })`: `select` is the
 * SELECT over `source` (an OlapTable, a pipeline meaning its table, or a table name); the view
 * writes TO the `target` table, created with it. Default target engine 'MergeTree'; target
 * columns are inferred from the SELECT when absent.
 *
 * Declarative form: `new MaterializedView({ name, from, filter?, groupBy, compute, refresh? })`
 * (see DeclarativeViewOptions): `select` and `target` (`<name>_state`, AggregatingMergeTree)
 * are generated, and users query the VIEW `<name>`.
 *
 * `refresh` defaults to `{ mode: 'streaming' }` (ClickHouse's MV trigger); a declarative view
 * using first, last, stddev or variance defaults to manual and says so in `notes`.
 *
 * Throws ConfigError on the first violation (see check-view.ts and declarative.ts), including a
 * pipeline source that has no table.
 */
export class MaterializedView implements MaterializedViewLike {
  readonly kind = 'view' as const
  readonly [MODEL_KIND] = 'view' as const
  readonly name: string
  readonly select: string
  readonly source: OlapTableLike | string
  readonly target: MaterializedViewLike['target']
  readonly refresh: ViewRefreshConfig
  readonly declarative?: DeclarativeView
  readonly watermark?: string
  readonly cluster?: string
  readonly notes: readonly string[] = []

  constructor(options: MaterializedViewOptions | DeclarativeViewOptions) {
    const given = (options ?? {}) as Partial<MaterializedViewOptions & DeclarativeViewOptions>
    const owner: Owner = { kind: 'view', name: given.name as string }
    this.name = given.name as string
    if ('compute' in given || 'from' in given) {
      checkIdentifier(owner, undefined, given.name, 'the name')
      this.source = sourceTable(owner, given.from, 'from')
      const source = typeof this.source === 'string' ? this.source : this.source?.kind === 'table' ? this.source.name : undefined
      if (source === undefined) {
        throw configError(owner, { option: 'from' }, 'view', 'must be an OlapTable, a pipeline with a table, or a table name', 'pass the table the view aggregates')
      }
      checkIdentifier(owner, { option: 'from' }, source, 'the source table name')
      const defaultBy = typeof this.source === 'object' ? this.source.config.orderByFields[0] : undefined
      const compiled = compileDeclarative(owner, given as DeclarativeViewOptions, source, defaultBy)
      if (typeof this.source === 'object') checkDeclarativeFields(owner, compiled.declarative, this.source.schema, source)
      this.declarative = compiled.declarative
      this.refresh = compiled.refresh
      this.notes = compiled.notes
      this.select = compiled.select
      this.target = { name: compiled.targetName, engine: 'AggregatingMergeTree', orderByFields: compiled.orderByFields }
    } else {
      const { select, source, target } = given
      this.select = select as string
      this.source = sourceTable(owner, source, 'source')
      this.target = typeof target === 'object' && target !== null ? { ...target, engine: target.engine ?? DEFAULT_ENGINE } : (target as unknown as MaterializedViewLike['target'])
      checkView(this)
      this.refresh = normalizeRefresh(owner, given.refresh)
    }
    if (given.watermark !== undefined) {
      checkIdentifier(owner, { option: 'watermark' }, given.watermark, 'the watermark column')
      this.watermark = given.watermark
    }
    if (given.cluster !== undefined) {
      checkIdentifier(owner, { option: 'cluster' }, given.cluster, 'the cluster name')
      if (this.refresh.mode !== 'streaming') {
        throw configError(owner, { option: 'cluster' }, 'view', 'ON CLUSTER views are streaming views (scheduled and manual refreshes run on one node)', "remove cluster, or use refresh: { mode: 'streaming' }")
      }
      this.cluster = given.cluster
    }
  }
}

function sourceTable(owner: Owner, source: MaterializedViewOptions['source'] | undefined, option: 'source' | 'from'): OlapTableLike | string {
  if (modelKindOf(source) !== 'pipeline') return source as OlapTableLike | string
  const pipeline = source as IngestPipelineLike
  if (pipeline.table !== undefined) return pipeline.table
  throw configError(owner, { option }, 'view', `pipeline "${pipeline.name}" has no table (table: false)`, 'read from a pipeline with a table, or from an OlapTable')
}
