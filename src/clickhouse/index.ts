/**
 * Public surface of the ClickHouse stage: client factory (server | embedded), table DDL and
 * provisioning (view DDL and provisioning are in src/views),
 * batch writer with deduplication tokens and retries, read-only queries, error mapping.
 */
export { ClickHouse, createClickHouse } from './client.ts'
export { resolveClickHouseOptions, CLICKHOUSE_DEFAULTS, type ClickHouseMode, type ClickHouseOptions, type ResolvedClickHouseOptions } from './options.ts'
export type { Capabilities, PingResult } from './types.ts'
export { toClickHouseError, isRetriableError, parseErrorText, CODE_NAMES, RETRIABLE_CODES, type ParsedErrorText } from './errors.ts'
export { createTableSql, addColumnSql, ddlOptionsFor, type DdlOptions } from './ddl.ts'
export { provisionTable, type TableProvisionResult } from './provision.ts'
export { insertBatch, dedupToken, insertSettings, type InsertBatchParams, type InsertBatchResult } from './writer.ts'
export { withRetry, backoffMs, RETRY_DEFAULTS, type RetryOptions } from './retry.ts'
export { queryReadonly, queryRows, runCommand, type QueryParams, type Row } from './query.ts'
export { quoteIdentifier, sqlString } from './sql.ts'
