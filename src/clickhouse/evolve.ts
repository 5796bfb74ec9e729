/**
 * Schema evolution on the main thread: the columns a schema registry writer schema adds
 * (SchemaEvolution, judged in the worker by transforms/evolution.ts) are added to the pipeline
 * table through the additive path module changes take (provision.ts provisionTableShape), before
 * the first batch holding the new field is inserted; the differences it refuses (a removed or
 * retyped field) are reported with the destructive-change message of a module change. Once per
 * table and schema id in this process; after a restart the columns exist already (their comment,
 * columns.ts EVOLVED_COMMENT, keeps them from being reported as no longer declared).
 *
 * Metric `flowhouse_schema_evolution_total{pipeline, outcome}`: `column_added` per column added,
 * `refused` per refused difference.
 */
import { ConfigError, messageOf } from '../errors.ts'
import { metrics } from '../metrics/metrics.ts'
import type { OlapTableLike, SchemaEvolution } from '../model/types.ts'
import { stageLog } from '../util/log.ts'
import type { ClickHouse } from './client.ts'
import { tableShape } from './ddl.ts'
import { destructive, provisionTableShape } from './provision.ts'
import { withRetry } from './retry.ts'

const logger = stageLog('clickhouse')

/** Per `<database>.<table>` and schema id, the evolution applied or being applied in this process. */
const applied = new Map<string, Promise<void>>()

export interface EvolveContext {
  /** Pipeline name, for the metric label and the log lines. */
  pipeline: string
  /** Called between retries so the consumer keeps its group membership. */
  heartbeat?: () => Promise<void>
  /** Stops retrying when aborted (the daemon is shutting down); the evolution is tried again with the next message. */
  signal?: AbortSignal
}

/**
 * Applies `evolution` to `table` once (see the file comment); concurrent calls for the same
 * schema id share one attempt. Retriable ClickHouse errors are retried with backoff while the
 * caller waits. A column the server refuses (a ConfigError or a non-retriable ClickHouseError) is
 * logged at error level and counted as `refused`: the field is then not stored (ClickHouse skips
 * unknown fields), and everything else of the records is.
 * @throws only the abort reason of `ctx.signal` (nothing is remembered then).
 */
export async function evolveTable(ch: ClickHouse, table: OlapTableLike, evolution: SchemaEvolution, ctx: EvolveContext): Promise<void> {
  const key = `${ch.database}.${table.name}\0${evolution.schemaId}`
  let done = applied.get(key)
  if (!done) {
    done = apply(ch, table, evolution, ctx)
    applied.set(key, done)
    done.catch(() => applied.delete(key))
  }
  await done
}

async function apply(ch: ClickHouse, table: OlapTableLike, evolution: SchemaEvolution, ctx: EvolveContext): Promise<void> {
  const fields = { pipeline: ctx.pipeline, table: table.name, schemaId: evolution.schemaId, ...(evolution.subject === undefined ? {} : { subject: evolution.subject }) }
  if (evolution.problems.length > 0) {
    metrics.schemaEvolution.inc({ pipeline: ctx.pipeline, outcome: 'refused' }, evolution.problems.length)
    logger.error({ ...fields, problems: evolution.problems }, destructive(table.name, evolution.problems).message)
  }
  if (evolution.columns.length === 0) return
  const shape = { ...tableShape(table), columns: [...table.columns, ...evolution.columns] }
  try {
    const result = await withRetry(() => provisionTableShape(ch, shape, { context: { pipeline: ctx.pipeline, schemaId: evolution.schemaId } }), {
      retries: Number.POSITIVE_INFINITY,
      baseMs: 250,
      maxMs: 10_000,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onRetry: async (error, attempt) => {
        logger.warn({ ...fields, attempt, err: error }, 'retriable error adding the columns of a new schema version; the partition waits and retries')
        await ctx.heartbeat?.().catch(() => undefined)
      },
    })
    if (result.addedColumns.length > 0) {
      metrics.schemaEvolution.inc({ pipeline: ctx.pipeline, outcome: 'column_added' }, result.addedColumns.length)
      logger.info({ ...fields, added: result.addedColumns }, 'columns added for a new schema version')
    }
  } catch (error) {
    if (ctx.signal?.aborted) throw error
    const problem = error instanceof ConfigError ? error.message : `ClickHouse refused the columns ${evolution.columns.map((c) => `"${c.name}" ${c.type}`).join(', ')}: ${messageOf(error)}`
    metrics.schemaEvolution.inc({ pipeline: ctx.pipeline, outcome: 'refused' }, evolution.columns.length)
    logger.error({ ...fields, columns: evolution.columns.map((c) => c.name), err: error }, `schema id ${evolution.schemaId} adds fields, but their columns cannot be added: ${problem}; the fields are not stored`)
  }
}
