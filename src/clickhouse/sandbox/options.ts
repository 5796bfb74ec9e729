/**
 * Limits of the SQL sandbox: ClickHouse settings set on the read-only sessions before
 * `readonly = 1` (embedded) or sent with every request together with `readonly = 1` (server), so
 * a query cannot raise them, and the size of the pool of read-only sessions with its queue.
 */
import { checkedInt } from '../../util/env.ts'

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

export const SANDBOX_DEFAULTS: SandboxOptions = {
  maxSeconds: 30,
  maxMemoryBytes: 1024 * 1024 * 1024,
  maxResultRows: 100_000,
  maxResultBytes: 64 * 1024 * 1024,
  sessions: 4,
  queue: 32,
}

const VARIABLES: Record<keyof SandboxOptions, string> = {
  maxSeconds: 'FLOWHOUSE_SQL_MAX_SECONDS',
  maxMemoryBytes: 'FLOWHOUSE_SQL_MAX_MEMORY_BYTES',
  maxResultRows: 'FLOWHOUSE_SQL_MAX_RESULT_ROWS',
  maxResultBytes: 'FLOWHOUSE_SQL_MAX_RESULT_BYTES',
  sessions: 'FLOWHOUSE_SQL_SESSIONS',
  queue: 'FLOWHOUSE_SQL_QUEUE',
}

/** Upper bounds, so a typo cannot switch a limit off. */
const MAX: Record<keyof SandboxOptions, number> = {
  maxSeconds: 3_600,
  maxMemoryBytes: 2 ** 40,
  maxResultRows: 100_000_000,
  maxResultBytes: 2 ** 34,
  sessions: 64,
  queue: 10_000,
}

/**
 * Explicit values, then the FLOWHOUSE_SQL_* variables, then SANDBOX_DEFAULTS.
 * @throws ConfigError naming the variable when a value is not an integer from 1 to its bound (util/env.ts checkedInt).
 */
export function resolveSandboxOptions(env: NodeJS.ProcessEnv, given: Partial<SandboxOptions> = {}): SandboxOptions {
  const out = { ...SANDBOX_DEFAULTS }
  for (const key of Object.keys(VARIABLES) as Array<keyof SandboxOptions>) {
    const text = env[VARIABLES[key]]
    const raw = given[key] ?? (text === undefined || text === '' ? undefined : Number(text))
    if (raw === undefined) continue
    const label = given[key] !== undefined ? `sandbox option ${key}` : `environment ${VARIABLES[key]}`
    out[key] = checkedInt(label, given[key] ?? text!, raw, { max: MAX[key] }, VARIABLES[key])
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
