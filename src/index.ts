/**
 * flowhouse's public API for pipeline modules:
 *
 *   import { IngestPipeline, Stream, OlapTable, MaterializedView, Constraint, Key, t, type Static } from 'flowhouse'
 */
export { IngestPipeline } from './model/pipeline.ts'
export { Stream } from './model/stream.ts'
export { OlapTable } from './model/table.ts'
export { MaterializedView } from './model/view.ts'
export { Key, t, type Static } from './model/schema.ts'
export { ConfigError, RateLimitExceededError, ValidationError, ResourceLimitExceededError, ViewNotFoundError, QueryError, RefreshError } from './errors.ts'
export { Constraint, type ConstraintOptions } from './constraints/constraint.ts'
export type { ConstraintAction, ConstraintType, RateConfig, ResourceConfig, ValidationConfig, FieldRule } from './constraints/types.ts'
export type { ComputeInput, DeclarativeViewOptions, IngestPipelineOptions, MaterializedViewOptions, StreamOptions, ViewRefreshOptions } from './model/options.ts'
export type { ColumnDef, EngineName, IngestFormat, SchemaRegistryFormat, StreamConfig, TableConfig, TransformFn, TransformResult, ConsumerFn } from './model/types.ts'
