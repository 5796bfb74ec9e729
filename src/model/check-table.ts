/**
 * Rules for anything that has a table: a bare OlapTable or a pipeline with its table on.
 * Used by the OlapTable constructor and by checkDefinitions.
 */
import type { TSchema } from '@sinclair/typebox'
import { checkIdentifier, configError, describe, quoteList, type Owner } from './config-error.ts'
import { checkKeys } from './keys.ts'
import { ENGINES } from './options.ts'
import { columnsOf } from './typemap.ts'
import type { ColumnDef, OlapTableLike } from './types.ts'

/**
 * Checks a table's schema and fully defaulted config and returns its columns. Rules, in
 * order: supported types (typemap.ts); exactly one top-level Key, required and scalar;
 * engine; orderByFields name top-level fields that are neither optional nor objects/arrays,
 * each once, Key first (contract: Key must be first in orderByFields); settings; partitionBy.
 * Throws ConfigError on the first violation.
 */
export function checkTable(owner: Owner, schema: TSchema, config: OlapTableLike['config']): ColumnDef[] {
  const columns = columnsOf(schema, owner)
  const key = checkKeys(owner, schema, true) as string
  const keyType = typeOfColumn(columns, key)
  if (isNullable(keyType)) throw configError(owner, { field: key }, 'key', 'the Key field must not be optional or nullable', `make "${key}" required`)
  if (isStructured(keyType)) {
    throw configError(owner, { field: key }, 'key', 'the Key field must be a scalar, not an object or array', 'mark a scalar top-level field as Key')
  }
  checkEngine(owner, config.engine)
  checkOrderBy(owner, columns, key, config.orderByFields)
  checkSettings(owner, config.settings)
  if (config.partitionBy !== undefined && (typeof config.partitionBy !== 'string' || config.partitionBy.trim() === '')) {
    throw configError(owner, { option: 'partitionBy' }, 'option', `must be a non-empty SQL expression (got ${describe(config.partitionBy)})`, "e.g. partitionBy: 'toYYYYMM(date)', or leave it out")
  }
  return columns
}

/** Engine of a table or view target must be one of ENGINES. Throws ConfigError (rule `engine`). */
export function checkEngine(owner: Owner, engine: unknown, option = 'engine'): void {
  if (ENGINES.includes(engine as never)) return
  throw configError(owner, { option }, 'engine', `must be one of ${quoteList(ENGINES)} (got ${describe(engine)})`, `use one of these, or leave ${option} out for "MergeTree"`)
}

/** Settings must be an object of string or finite number values with identifier names. Throws ConfigError (rule `settings`). */
export function checkSettings(owner: Owner, settings: unknown, option = 'settings'): void {
  if (settings === undefined) return
  const valid =
    typeof settings === 'object' &&
    settings !== null &&
    !Array.isArray(settings) &&
    Object.values(settings).every((value) => typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)))
  if (!valid) throw configError(owner, { option }, 'settings', `must be an object of string or number values (got ${describe(settings)})`, `e.g. ${option}: { index_granularity: 8192 }`)
  for (const name of Object.keys(settings)) checkIdentifier(owner, { option }, name, 'setting names')
}

function checkOrderBy(owner: Owner, columns: ColumnDef[], key: string, orderByFields: unknown): void {
  if (!Array.isArray(orderByFields) || !orderByFields.every((field) => typeof field === 'string')) {
    throw configError(owner, { option: 'orderByFields' }, 'order-by', `must be an array of top-level field names (got ${describe(orderByFields)})`, `e.g. orderByFields: ["${key}"]`)
  }
  orderByFields.forEach((field: string, index) => {
    const type = typeOfColumn(columns, field)
    if (type === undefined) {
      throw configError(owner, { field }, 'order-by', 'orderByFields must name top-level fields of the schema', `remove "${field}" or use one of ${quoteList(columns.map((column) => column.name))}`)
    }
    if (orderByFields.indexOf(field) !== index) throw configError(owner, { field }, 'order-by', 'orderByFields must not list a field twice', `remove the second "${field}"`)
    if (isNullable(type)) {
      throw configError(owner, { field }, 'order-by', 'orderByFields must not contain optional fields', `make "${field}" required or remove it from orderByFields`)
    }
    if (isStructured(type)) throw configError(owner, { field }, 'order-by', 'orderByFields must not contain objects or arrays', `remove "${field}" from orderByFields`)
  })
  if (orderByFields[0] !== key) {
    const fixed = [key, ...orderByFields.filter((field) => field !== key)]
    throw configError(owner, { field: key }, 'order-by', 'the Key field must be first in orderByFields', `put "${key}" first, e.g. orderByFields: [${quoteList(fixed)}]`)
  }
}

function typeOfColumn(columns: ColumnDef[], name: string): string | undefined {
  return columns.find((column) => column.name === name)?.type
}

function isNullable(type: string | undefined): boolean {
  return type !== undefined && (type.startsWith('Nullable(') || type.startsWith('LowCardinality(Nullable('))
}

function isStructured(type: string | undefined): boolean {
  return type !== undefined && (type.startsWith('Array(') || type.startsWith('Tuple('))
}
