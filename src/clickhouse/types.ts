/**
 * Shapes shared by the ClickHouse stage: what the connected engine can do, and what the
 * writer, the provisioner and ping return.
 */
import type { ClickHouseError } from '../errors.ts'

/**
 * Features of the connected engine that change the SQL flowhouse sends, detected at connect
 * time from `system.settings`, `system.merge_tree_settings`, `system.functions` and two probes.
 * chdb 3.4 (ClickHouse 26.7) has all of them; Debian's clickhouse-server 18.16 has only
 * `describeQuery`, `dateTimeBestEffort`, `skipUnknownFields` and `insertDeduplicate` — no
 * deduplication token or window, so on it delivery is at-least-once.
 */
export interface Capabilities {
  /** Setting `insert_deduplication_token` (ClickHouse ≥ 22.2): a retried batch is recognised by its token. */
  insertDeduplicationToken: boolean
  /** MergeTree setting `non_replicated_deduplication_window`: plain MergeTree tables keep insert hashes for dedup. */
  nonReplicatedDedupWindow: boolean
  /** Setting `deduplicate_blocks_in_dependent_materialized_views`: dedup also applies in MV target tables. */
  dedupDependentViews: boolean
  /** Setting `insert_deduplicate` (on/off switch of insert dedup up to ClickHouse 25.x). */
  insertDeduplicate: boolean
  /**
   * Setting `deduplicate_insert` ('enable' | 'disable' | ...), which in newer releases (26.x)
   * overrides `insert_deduplicate`: there `insert_deduplicate = 0` no longer stops dedup.
   */
  deduplicateInsert: boolean
  /** `DESCRIBE (SELECT ...)` works, so view target columns can be inferred. */
  describeQuery: boolean
  /** Server-side query parameters `{name:Type}` (else flowhouse binds them into the SQL text). */
  queryParameters: boolean
  /** Setting `date_time_input_format` (`best_effort` parses ISO-8601 like `2001-01-01T00:01:00.000Z`). */
  dateTimeBestEffort: boolean
  /** Setting `input_format_skip_unknown_fields`. */
  skipUnknownFields: boolean
  /** SQL function `formatQuery` (used to compare a view's SELECT with the declared one). */
  formatQuery: boolean
  /**
   * Data type families of compat.ts's CHECKED_TYPE_FAMILIES that the engine lacks (18.16:
   * DateTime64, Bool, Date32, Map, big integers ...); columns of those types get the nearest
   * type it has or are refused. Absent or empty: the engine has them all.
   */
  missingTypes?: readonly string[]
}

/** Result of `ping()`: it never throws; a failure is returned with its error. */
export type PingResult = { ok: true } | { ok: false; error: ClickHouseError }
