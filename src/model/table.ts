/**
 * OlapTable: a ClickHouse table whose columns come from a schema.
 */
import type { TSchema } from '@sinclair/typebox'
import { MODEL_KIND } from './brand.ts'
import { checkTable } from './check-table.ts'
import { checkIdentifier, ownerOf } from './config-error.ts'
import { keyPaths } from './keys.ts'
import { DEFAULT_ENGINE, OWNED_BY, type TableOptions } from './options.ts'
import type { ColumnDef, OlapTableLike } from './types.ts'

/**
 * A ClickHouse table. `new OlapTable(name, schema, options?)` where `name` is a ClickHouse
 * identifier, `schema` a `t.Object` with exactly one top-level `Key` field, and options
 * `{ orderByFields?, engine?, settings?, partitionBy? }`.
 *
 * Defaults: engine 'MergeTree', orderByFields [the Key field]. The constructor checks the
 * definition (see check-table.ts) and throws ConfigError on the first violation, so a bad
 * module fails when it is imported.
 */
export class OlapTable<S extends TSchema = TSchema> implements OlapTableLike {
  readonly kind = 'table' as const
  readonly [MODEL_KIND] = 'table' as const
  readonly name: string
  readonly schema: S
  readonly config: OlapTableLike['config']
  /** Columns in schema order (typemap.ts). */
  readonly columns: ColumnDef[]
  readonly pipeline?: string

  constructor(name: string, schema: S, options: TableOptions = {}) {
    this.name = name
    this.schema = schema
    this.pipeline = options[OWNED_BY]
    const owner = ownerOf('table', name, this.pipeline)
    checkIdentifier(owner, undefined, name, 'the name')
    const key = keyPaths(schema)[0]
    this.config = {
      orderByFields: options.orderByFields === undefined ? (key === undefined ? [] : [key]) : copyIfArray(options.orderByFields),
      engine: options.engine === undefined ? DEFAULT_ENGINE : options.engine,
      ...(options.settings === undefined ? {} : { settings: options.settings }),
      ...(options.partitionBy === undefined ? {} : { partitionBy: options.partitionBy }),
    }
    this.columns = checkTable(owner, schema, this.config)
  }
}

function copyIfArray<T>(value: T): T {
  return (Array.isArray(value) ? [...value] : value) as T
}
