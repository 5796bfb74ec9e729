/**
 * The model stage's surface for the rest of the daemon: classes, schema DSL, type mapping,
 * configuration checks and module collection. Pipeline authors import from src/index.ts.
 */
export { IngestPipeline } from './pipeline.ts'
export { Stream, type RecordOf } from './stream.ts'
export { OlapTable } from './table.ts'
export { MaterializedView } from './view.ts'
export { Key, t, compileValidator, createAjv, type SchemaBuilder, type Static, type TSchema } from './schema.ts'
export { columnsOf, checkSchemaTypes } from './typemap.ts'
export { checkDefinitions } from './check.ts'
export { collectDefinitions } from './collect.ts'
export { IDENTIFIER, type Owner, type OwnerKind, type Rule } from './config-error.ts'
export { CLICKHOUSE_KEYWORD, KEY_KEYWORD, LOW_CARDINALITY_KEYWORD } from './annotations.ts'
export { DEFAULT_ENGINE, ENGINES, INGEST_FORMAT, PIPELINE_DEFAULTS, STREAM_DEFAULTS } from './options.ts'
export type { ComputeInput, DeclarativeViewOptions, DestinationInput, IngestPipelineOptions, MaterializedViewOptions, StreamOptions, TableOptions, ViewRefreshOptions } from './options.ts'
export { compileDeclarative, mergeSelect, normalizeRefresh, parseDurationSeconds, stateSelect, FULL_REFRESH_FUNCTIONS, INCREMENTAL_FUNCTIONS } from './declarative.ts'
export type * from './types.ts'
