/**
 * Limits of the SQL sandbox: ClickHouse settings set on the read-only sessions before
 * `readonly = 1` (embedded) or sent with every request together with `readonly = 1` (server), so
 * a query cannot raise them, and the size of the pool of read-only sessions with its queue.
 */
import { checkedInt } from '../../util/env.ts'
import { setting, variableSchema, type Variable } from '../../util/environment.ts'

export interface SandboxOptions {
  /** `max_execution_time` of a caller's query, in seconds. Env FLOWHOUSE_SQL_MAX_SECONDS. @default 30 */
  maxSeconds: number
  /** `max_memory_usage` of a caller's query, in bytes. Env FLOWHOUSE_SQL_MAX_MEMORY_BYTES. @default 1 GiB */
  maxMemoryBytes: number
  /** `max_result_rows` (the answer is refused above it, `result_overflow_mode = 'throw'`). Env FLOWHOUSE_SQL_MAX_RESULT_ROWS. @default 100_000 */
  maxResultRows: number
  /** `max_result_bytes` (uncompressed, in bytes). Env FLOWHOUSE_SQL_MAX_RESULT_BYTES. @default 64 MiB */
  maxResultBytes: number
  /** Caller queries that run at once (embedded: one read-only session each). Env FLOWHOUSE_SQL_SESSIONS. @default 4 */
  sessions: number
  /** Caller queries that may wait for a session; one more answers 503. Env FLOWHOUSE_SQL_QUEUE. @default 32 */
  queue: number
}

const VARIABLES = {
  maxSeconds: 'FLOWHOUSE_SQL_MAX_SECONDS',
  maxMemoryBytes: 'FLOWHOUSE_SQL_MAX_MEMORY_BYTES',
  maxResultRows: 'FLOWHOUSE_SQL_MAX_RESULT_ROWS',
  maxResultBytes: 'FLOWHOUSE_SQL_MAX_RESULT_BYTES',
  sessions: 'FLOWHOUSE_SQL_SESSIONS',
  queue: 'FLOWHOUSE_SQL_QUEUE',
} as const satisfies Record<keyof SandboxOptions, Variable>

const KEYS = Object.keys(VARIABLES) as Array<keyof SandboxOptions>

/** Defaults, from the variables' schema (util/environment.ts). */
export const SANDBOX_DEFAULTS = Object.fromEntries(KEYS.map((key) => [key, setting(VARIABLES[key], {})])) as unknown as SandboxOptions

/**
 * Explicit values, then the FLOWHOUSE_SQL_* variables, then SANDBOX_DEFAULTS.
 * @throws ConfigError naming the variable when a value is not an integer from 1 to its bound
 *   (the bounds, upper ones so a typo cannot switch a limit off, are in util/environment.ts).
 */
export function resolveSandboxOptions(env: NodeJS.ProcessEnv | undefined, given: Partial<SandboxOptions> = {}): SandboxOptions {
  const out = { ...SANDBOX_DEFAULTS }
  for (const key of KEYS) {
    const value = given[key]
    out[key] = value === undefined ? setting(VARIABLES[key], env) : checkedInt(`sandbox option ${key}`, value, value, { max: variableSchema(VARIABLES[key]).maximum as number }, VARIABLES[key])
  }
  return out
}

/** The ClickHouse settings of the limits, in the order they are set (readonly last, by the caller). */
export function limitSettings(o: SandboxOptions): Record<string, string> {
  return {
    max_execution_time: String(o.maxSeconds),
    max_memory_usage: String(o.maxMemoryBytes),
    max_result_rows: String(o.maxResultRows),
    max_result_bytes: String(o.maxResultBytes),
    result_overflow_mode: 'throw',
  }
}
