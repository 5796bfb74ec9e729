/**
 * Violation history in ClickHouse (`flowhouse_constraint_violations`).
 *
 * A flood must not become one row per violation: violations are aggregated in memory per
 * (second, pipeline, constraint, action, record key) into one row holding the count and the
 * first example (its source and reason), and flushed every second. At most
 * `maxKeysPerSecond` distinct keys are kept per constraint and second; further keys of that
 * second are folded into one row with the key `*other*`. So 100k violations/s of one
 * constraint cost at most maxKeysPerSecond + 1 rows per second.
 *
 * Rows expire after `ttlSeconds` (table TTL; servers older than 19.x have no TTL and keep them).
 */
import type { ClickHouse } from '../clickhouse/client.ts'
import { queryRows, runCommand } from '../clickhouse/query.ts'
import { insertBatch } from '../clickhouse/writer.ts'
import { stageLog } from '../util/log.ts'

const logger = stageLog('constraints')
export const VIOLATIONS_TABLE = 'flowhouse_constraint_violations'

export interface Violation {
  /** When it happened, ms since the epoch. */
  time: number
  constraint: string
  type: string
  pipeline: string
  /** throttle | dead_letter | drop | rejected (ingest API answered 429). */
  action: string
  /** `<topic>:<partition>:<offset>` or `request:<id>`. */
  source: string
  /** The record's Key value, or the rate key ('' when none). */
  key: string
  /** Why: the constraint, field and rule. */
  details: string
  /** How many violations this stands for. @default 1 */
  count?: number
}

/** One stored row: the violations of one constraint and key in one second. */
export interface ViolationRow {
  time: string
  constraint: string
  type: string
  pipeline: string
  action: string
  source: string
  record_key: string
  count: number
  details: string
}

export interface ViolationQuery {
  constraint?: string
  pipeline?: string
  /** Inclusive start (ISO-8601 or ms). */
  from?: string | number | Date
  /** Exclusive end (ISO-8601 or ms). */
  to?: string | number | Date
  /** @default 1000 */
  limit?: number
}

interface Pending {
  row: ViolationRow
}

const toSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ')

function toMs(value: string | number | Date): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value)
  if (Number.isNaN(ms)) throw new Error(`not a time: ${JSON.stringify(value)}; use ISO-8601, e.g. 2026-01-31T12:00:00Z`)
  return ms
}

export class ViolationHistory {
  private pending = new Map<string, Pending>()
  private keysPerSecond = new Map<string, number>()
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> = Promise.resolve()

  constructor(
    private readonly ch: ClickHouse,
    private readonly options: { ttlSeconds: number; maxKeysPerSecond: number; flushMs: number } = { ttlSeconds: 30 * 86_400, maxKeysPerSecond: 1_000, flushMs: 1_000 },
  ) {}

  /** Creates the table (idempotent) and starts the periodic flush. */
  async start(): Promise<void> {
    const ttl = Number(this.ch.serverVersion.split('.')[0]) >= 19 ? ` TTL time + INTERVAL ${this.options.ttlSeconds} SECOND` : ''
    await runCommand(
      this.ch,
      `CREATE TABLE IF NOT EXISTS ${VIOLATIONS_TABLE} (time DateTime('UTC'), constraint_name String, type String, pipeline String, action String, source String, record_key String, count UInt64, details String)
       ENGINE = MergeTree ORDER BY (pipeline, constraint_name, time)${ttl}`,
    )
    this.timer = setInterval(() => void this.flush(), this.options.flushMs)
    this.timer.unref()
  }

  /** Adds a violation to the current second's aggregate. Never throws. */
  record(v: Violation): void {
    const second = toSecond(v.time)
    const group = `${second}|${v.pipeline}|${v.constraint}`
    let key = v.key
    let id = `${group}|${v.action}|${key}`
    if (!this.pending.has(id)) {
      const seen = this.keysPerSecond.get(group) ?? 0
      if (seen >= this.options.maxKeysPerSecond) {
        key = '*other*'
        id = `${group}|${v.action}|${key}`
      } else {
        this.keysPerSecond.set(group, seen + 1)
      }
    }
    const existing = this.pending.get(id)
    if (existing) {
      existing.row.count += v.count ?? 1
      return
    }
    this.pending.set(id, {
      row: { time: second, constraint: v.constraint, type: v.type, pipeline: v.pipeline, action: v.action, source: v.source, record_key: key, count: v.count ?? 1, details: v.details },
    })
  }

  /** Writes what is pending. Failed writes are kept for the next flush (up to 100k rows). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return
      const rows = [...this.pending.values()].map((p) => p.row)
      this.pending = new Map()
      this.keysPerSecond = new Map()
      try {
        await insertBatch(this.ch, { table: VIOLATIONS_TABLE, rows: rows.map(({ constraint, ...rest }) => ({ ...rest, constraint_name: constraint })) })
      } catch (error) {
        logger.warn({ rows: rows.length, err: error }, 'could not store constraint violations; retrying on the next flush')
        if (this.pending.size < 100_000) for (const row of rows) this.pending.set(`retry|${Math.random()}`, { row })
      }
    })
    return this.flushing
  }

  /**
   * Stored violations, oldest first, filtered by constraint, pipeline and [from, to).
   * Pending ones are flushed first so a query sees everything recorded before it.
   * @throws on a time that does not parse, or when ClickHouse refuses the query.
   */
  async query(q: ViolationQuery = {}): Promise<ViolationRow[]> {
    await this.flush()
    const where: string[] = []
    const params: Record<string, unknown> = {}
    if (q.constraint) {
      where.push('constraint_name = {constraint:String}')
      params.constraint = q.constraint
    }
    if (q.pipeline) {
      where.push('pipeline = {pipeline:String}')
      params.pipeline = q.pipeline
    }
    if (q.from !== undefined) {
      where.push(`time >= toDateTime({from:String}, 'UTC')`)
      params.from = toSecond(toMs(q.from))
    }
    if (q.to !== undefined) {
      where.push(`time < toDateTime({to:String}, 'UTC')`)
      params.to = toSecond(toMs(q.to))
    }
    const limit = Math.max(1, Math.min(100_000, Math.floor(q.limit ?? 1_000)))
    // Aliases differ from the column names: ClickHouse resolves aliases in WHERE and ORDER BY.
    const rows = await queryRows<Omit<ViolationRow, 'time' | 'constraint'> & { at: string; name: string }>(
      this.ch,
      `SELECT toString(time) AS at, constraint_name AS name, type, pipeline, action, source, record_key, count, details FROM ${VIOLATIONS_TABLE}
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time, pipeline, constraint_name, record_key LIMIT ${limit}`,
      params,
    )
    return rows.map(({ at, name, ...r }) => ({ time: at, constraint: name, ...r, count: Number(r.count) }))
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.flush()
  }
}
