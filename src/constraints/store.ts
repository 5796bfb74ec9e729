/**
 * Run-time constraint changes (enable, disable, update_config) persisted in ClickHouse
 * (`flowhouse_constraint_state`, ReplacingMergeTree by version). Every daemon on the same
 * ClickHouse reads the newest state per (pipeline, constraint) at start and polls for newer
 * versions, so a change made through any instance reaches all of them.
 */
import type { ClickHouse } from '../clickhouse/client.ts'
import { queryRows, runCommand } from '../clickhouse/query.ts'
import { insertBatch } from '../clickhouse/writer.ts'

export const STATE_TABLE = 'flowhouse_constraint_state'

export interface StoredState {
  pipeline: string
  constraint: string
  enabled: boolean
  /** JSON text of the config. */
  config: string
  /** Milliseconds since the epoch of the change; newest wins. */
  version: number
}

export class ConstraintStore {
  constructor(private readonly ch: ClickHouse) {}

  async init(): Promise<void> {
    await runCommand(
      this.ch,
      `CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (pipeline String, constraint_name String, enabled UInt8, config String, version UInt64, updated_at DateTime('UTC'))
       ENGINE = ReplacingMergeTree(version) ORDER BY (pipeline, constraint_name)`,
    )
  }

  /** The newest state of every constraint that was ever changed at run time. */
  async load(): Promise<StoredState[]> {
    // Aliases differ from the column names: ClickHouse resolves aliases inside other expressions.
    const rows = await queryRows<{ pipeline: string; constraint_name: string; on: number | string; conf: string; newest: number | string }>(
      this.ch,
      `SELECT pipeline, constraint_name, argMax(enabled, version) AS on, argMax(config, version) AS conf, max(version) AS newest
       FROM ${STATE_TABLE} GROUP BY pipeline, constraint_name`,
    )
    return rows.map((r) => ({ pipeline: r.pipeline, constraint: r.constraint_name, enabled: Number(r.on) === 1, config: r.conf, version: Number(r.newest) }))
  }

  /** Stores a new state; `version` must exceed the previous one (callers use max(now, previous + 1)). */
  async save(state: StoredState): Promise<void> {
    const updated_at = new Date(state.version).toISOString().slice(0, 19).replace('T', ' ')
    const { constraint, ...rest } = state
    await insertBatch(this.ch, { table: STATE_TABLE, rows: [{ ...rest, constraint_name: constraint, enabled: state.enabled ? 1 : 0, updated_at }] })
  }
}
