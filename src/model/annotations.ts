/**
 * The custom JSON Schema keywords flowhouse adds to TypeBox schemas, and what each
 * ClickHouse annotation means. Shared by the DSL (schema.ts), the validator
 * (validator.ts) and the type map (typemap.ts).
 */

/** Keyword holding the ClickHouse type of a field, e.g. `{ 'x-clickhouse': 'Int32' }`. */
export const CLICKHOUSE_KEYWORD = 'x-clickhouse'
/** Keyword marking the Key field: `{ 'x-key': true }`. */
export const KEY_KEYWORD = 'x-key'
/** Keyword wrapping a String column in `LowCardinality(...)`: `{ 'x-low-cardinality': true }`. */
export const LOW_CARDINALITY_KEYWORD = 'x-low-cardinality'

/** ClickHouse type of `t.DateTime()` and of any `format: 'date-time'` string. */
export const DATETIME_TYPE = "DateTime64(3, 'UTC')"
/** ClickHouse type of `t.Date()` and of any `format: 'date'` string. */
export const DATE_TYPE = 'Date32'

/** Integer widths carried as JSON numbers (they fit in a double exactly). */
export const SMALL_INTEGER_TYPES = ['Int8', 'Int16', 'Int32', 'UInt8', 'UInt16', 'UInt32'] as const
/** Integer widths carried as decimal strings (contract: large integers as strings). */
export const LARGE_INTEGER_TYPES = ['Int64', 'UInt64', 'Int128', 'UInt128', 'Int256', 'UInt256'] as const
export type SmallIntegerType = (typeof SMALL_INTEGER_TYPES)[number]
export type LargeIntegerType = (typeof LARGE_INTEGER_TYPES)[number]
export type IntegerType = SmallIntegerType | LargeIntegerType

/** Inclusive range of every ClickHouse integer width. */
export function integerRange(type: IntegerType): { min: bigint; max: bigint } {
  const bits = BigInt(type.replace(/^U?Int/, ''))
  if (type.startsWith('U')) return { min: 0n, max: 2n ** bits - 1n }
  return { min: -(2n ** (bits - 1n)), max: 2n ** (bits - 1n) - 1n }
}

/** Which JSON type each accepted `x-clickhouse` annotation requires. */
export const ANNOTATION_JSON_TYPE: Readonly<Record<string, 'integer' | 'number' | 'string'>> = {
  ...Object.fromEntries(SMALL_INTEGER_TYPES.map((type) => [type, 'integer'])),
  ...Object.fromEntries(LARGE_INTEGER_TYPES.map((type) => [type, 'string'])),
  Float32: 'number',
  Float64: 'number',
  [DATETIME_TYPE]: 'string',
  [DATE_TYPE]: 'string',
}

export function isIntegerType(type: string): type is IntegerType {
  return (SMALL_INTEGER_TYPES as readonly string[]).includes(type) || (LARGE_INTEGER_TYPES as readonly string[]).includes(type)
}
