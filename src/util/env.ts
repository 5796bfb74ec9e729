/**
 * The one integer check behind every integer setting: the environment's (util/environment.ts)
 * and the explicit options of the ClickHouse client and the SQL sandbox, so each gives the same
 * error for the same mistake.
 */
import { ConfigError } from '../errors.ts'

/** Bounds of an integer variable; `unit` is named in the error (e.g. `bytes`, `ms`). */
export interface IntBounds {
  /** @default 1 */
  min?: number
  /** @default Number.MAX_SAFE_INTEGER */
  max?: number
  unit?: string
}

/**
 * `value` when it is an integer within `bounds`; `label` and `shown` name it in the error
 * (e.g. `environment FLOWHOUSE_X` and the text read, or `clickhouse option sessions` and the value).
 * @throws ConfigError (context `field`) `<label>="<shown>": must be a positive integer`
 *   (min 1, no max), `… an integer ≥ MIN` or `… an integer from MIN to MAX`, with ` (unit)` when
 *   given; a number is shown without quotes.
 */
export function checkedInt(label: string, shown: string | number, value: number, bounds: IntBounds = {}, field = label): number {
  const { min = 1, max = Number.MAX_SAFE_INTEGER, unit } = bounds
  if (Number.isInteger(value) && value >= min && value <= max) return value
  const what = max !== Number.MAX_SAFE_INTEGER ? `an integer from ${min} to ${max}` : min === 1 ? 'a positive integer' : `an integer ≥ ${min}`
  const given = typeof shown === 'string' ? `="${shown}"` : `=${shown}`
  throw new ConfigError(`${label}${given}: must be ${what}${unit ? ` (${unit})` : ''}`, { field })
}
