/**
 * MaterializedView: a ClickHouse materialized view writing TO a target table.
 */
import { MODEL_KIND, modelKindOf } from './brand.ts'
import { checkView } from './check-view.ts'
import { configError, type Owner } from './config-error.ts'
import { DEFAULT_ENGINE, type MaterializedViewOptions } from './options.ts'
import type { IngestPipelineLike, MaterializedViewLike, OlapTableLike } from './types.ts'

/**
 * A materialized view. `new MaterializedView({ name, select, source, target: { name,
 * engine?, orderByFields, columns?, settings? } })`: `select` is the SELECT over `source`
 * (an OlapTable, a pipeline meaning its table, or a table name); the view writes TO the
 * `target` table, created with it. Default target engine 'MergeTree'; target columns are
 * inferred from the SELECT when absent.
 *
 * Throws ConfigError on the first violation (see check-view.ts), including a pipeline
 * source that has no table.
 */
export class MaterializedView implements MaterializedViewLike {
  readonly kind = 'view' as const
  readonly [MODEL_KIND] = 'view' as const
  readonly name: string
  readonly select: string
  readonly source: OlapTableLike | string
  readonly target: MaterializedViewLike['target']

  constructor(options: MaterializedViewOptions) {
    const { name, select, source, target } = options ?? ({} as Partial<MaterializedViewOptions>)
    this.name = name as string
    this.select = select as string
    this.source = sourceTable({ kind: 'view', name: name as string }, source)
    this.target = typeof target === 'object' && target !== null ? { ...target, engine: target.engine ?? DEFAULT_ENGINE } : (target as MaterializedViewLike['target'])
    checkView(this)
  }
}

function sourceTable(owner: Owner, source: MaterializedViewOptions['source'] | undefined): OlapTableLike | string {
  if (modelKindOf(source) !== 'pipeline') return source as OlapTableLike | string
  const pipeline = source as IngestPipelineLike
  if (pipeline.table !== undefined) return pipeline.table
  throw configError(owner, { option: 'source' }, 'view', `pipeline "${pipeline.name}" has no table (table: false)`, 'read from a pipeline with a table, or from an OlapTable')
}
