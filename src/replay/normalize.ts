/**
 * Turns values decoded from a file into JSON-safe values, so that `JSON.stringify` of a record
 * is lossless and the daemon sees the same shape whichever file format the rows came from.
 */

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)

/**
 * Normalises one value:
 * - `Date` -> ISO-8601 string in UTC with `Z` (`2001-01-01T00:01:00.000Z`); an invalid Date -> null.
 *   Parquet timestamps without a zone (`isAdjustedToUTC=false`) are read as UTC wall-clock time,
 *   as ClickHouse does.
 * - `bigint` -> number when within ±(2^53 - 1), else its decimal string (large integers travel as strings).
 * - non-finite numbers (NaN, ±Infinity) -> null (JSON has no such numbers).
 * - `Uint8Array` (binary parquet columns) -> base64 string.
 * - arrays and plain objects -> normalised element by element; `undefined` members are dropped.
 * Never throws.
 */
export function normalizeValue(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) ? value : null
    case 'bigint':
      return value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value.toString()
    case 'object':
      if (value === null) return null
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString()
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
      if (Array.isArray(value)) return value.map(normalizeValue)
      if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<unknown>, normalizeValue)
      return normalizeObject(value as Record<string, unknown>)
    default:
      return null
  }
}

function normalizeObject(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(object)) {
    const v = object[key]
    if (v !== undefined) out[key] = normalizeValue(v)
  }
  return out
}

/** `YYYY/MM/DD HH:MM[:SS]`: the zone-less timestamp text of the vega flights JSON files. */
const SLASH_TIMESTAMP = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$/

/**
 * Rewrites a zone-less `YYYY/MM/DD HH:MM[:SS]` timestamp string (the `date` format of the vega
 * flights JSON files, e.g. `2001/01/01 06:55`) to the ISO-8601 UTC form the parquet rows get
 * (`2001-01-01T06:55:00.000Z`): the same flight then has the same `date` in both files.
 * Any other value is returned unchanged. Never throws.
 */
export function normalizeTimestampText(value: unknown): unknown {
  if (typeof value !== 'string' || value.length < 16 || value.length > 19) return value
  const m = SLASH_TIMESTAMP.exec(value)
  if (m === null) return value
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}.000Z`
}
