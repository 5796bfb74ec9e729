/**
 * Detects the engine's version and Capabilities with a handful of cheap queries, so that DDL
 * and inserts adapt to old servers (Debian's 18.16) as well as to current ClickHouse (chdb).
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { isRetriableError } from './errors.ts'
import { CHECKED_TYPE_FAMILIES } from './compat.ts'
import type { Capabilities } from './types.ts'

const SETTINGS = [
  'insert_deduplication_token',
  'deduplicate_blocks_in_dependent_materialized_views',
  'insert_deduplicate',
  'deduplicate_insert',
  'date_time_input_format',
  'input_format_skip_unknown_fields',
] as const

async function rows<T>(client: ClickHouseClient, query: string, query_params?: Record<string, unknown>): Promise<T[]> {
  const result = await client.query({ query, format: 'JSONEachRow', ...(query_params ? { query_params } : {}) })
  return result.json<T>()
}

/** True when the probe runs; false when the engine refuses it; a transport failure is rethrown. */
async function succeeds(probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe()
    return true
  } catch (error) {
    if (isRetriableError(error)) throw error
    return false
  }
}

/**
 * Reads `version()` and the feature set of the engine behind `client`.
 * No setting is sent with these queries (on chdb a setting would stick to the session).
 * @returns the version text (e.g. `18.16.1`, `26.7.2.1`) and the capabilities.
 * @throws whatever the client throws when the engine cannot be reached (callers map it with toClickHouseError).
 */
export async function detectCapabilities(client: ClickHouseClient): Promise<{ serverVersion: string; capabilities: Capabilities }> {
  const [version] = await rows<{ v: string }>(client, 'SELECT version() AS v')
  const names = SETTINGS.map((s) => `'${s}'`).join(', ')
  const found = await rows<{ kind: string; name: string }>(
    client,
    `SELECT 'setting' AS kind, name FROM system.settings WHERE name IN (${names})
     UNION ALL SELECT 'merge_tree' AS kind, name FROM system.merge_tree_settings WHERE name = 'non_replicated_deduplication_window'
     UNION ALL SELECT 'function' AS kind, name FROM system.functions WHERE name = 'formatQuery'
     UNION ALL SELECT 'type' AS kind, name FROM system.data_type_families WHERE name IN (${CHECKED_TYPE_FAMILIES.map((t) => `'${t}'`).join(', ')})`,
  )
  const has = (kind: string, name: string): boolean => found.some((r) => r.kind === kind && r.name === name)
  const [describeQuery, queryParameters] = await Promise.all([
    succeeds(() => rows(client, 'DESCRIBE (SELECT 1 AS x)')),
    succeeds(() => rows(client, 'SELECT {p:UInt8} AS p', { p: 1 })),
  ])
  return {
    serverVersion: version?.v ?? 'unknown',
    capabilities: {
      insertDeduplicationToken: has('setting', 'insert_deduplication_token'),
      nonReplicatedDedupWindow: has('merge_tree', 'non_replicated_deduplication_window'),
      dedupDependentViews: has('setting', 'deduplicate_blocks_in_dependent_materialized_views'),
      insertDeduplicate: has('setting', 'insert_deduplicate'),
      deduplicateInsert: has('setting', 'deduplicate_insert'),
      describeQuery,
      queryParameters,
      dateTimeBestEffort: has('setting', 'date_time_input_format'),
      skipUnknownFields: has('setting', 'input_format_skip_unknown_fields'),
      formatQuery: has('function', 'formatQuery'),
      missingTypes: CHECKED_TYPE_FAMILIES.filter((t) => !has('type', t)),
    },
  }
}

/** The delivery guarantee into ClickHouse tables and views that an engine's Capabilities give. */
export interface DeliveryGuarantee {
  guarantee: 'exactly-once' | 'at-least-once'
  /** Why, naming the settings found or missing. */
  reason: string
}

/**
 * The guarantee in force with these Capabilities (README "Delivery guarantee per ClickHouse version").
 * Exactly-once needs `insert_deduplication_token` (introduced in ClickHouse 22.2, its changelog),
 * `non_replicated_deduplication_window` so plain MergeTree tables remember tokens, and
 * `deduplicate_blocks_in_dependent_materialized_views` so views drop the retried block too. Without
 * them a batch retried after a crash may be written twice: at-least-once. Never throws.
 */
export function deliveryGuarantee(c: Capabilities): DeliveryGuarantee {
  const missing = [
    ...(c.insertDeduplicationToken ? [] : ['insert_deduplication_token']),
    ...(c.nonReplicatedDedupWindow ? [] : ['non_replicated_deduplication_window']),
    ...(c.dedupDependentViews ? [] : ['deduplicate_blocks_in_dependent_materialized_views']),
  ]
  if (missing.length === 0) return { guarantee: 'exactly-once', reason: 'a batch retried after a crash carries the same insert_deduplication_token and is dropped in tables and views' }
  return { guarantee: 'at-least-once', reason: `the engine lacks ${missing.join(', ')} (ClickHouse < 22.2): a batch retried after a crash may be written twice` }
}
