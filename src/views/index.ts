/**
 * Public surface of the materialized-view stage: the manager (lifecycle, refresh, status, query
 * helper, drop), definitions from modules and from the API, and the pieces unit tests exercise.
 */
export { ViewManager, type RefreshResult, type ViewDetails, type ViewSummary } from './manager.ts'
export { createMaterializedViewSql } from './ddl.ts'
export { inferColumns, provisionView, type ViewProvisionResult } from './provision.ts'
export { definitionFromModule, definitionFromRequest, objectsOf, sameDefinition, type CreateViewRequest } from './definition.ts'
export { resolveViewsOptions, VIEWS_DEFAULTS, type ViewsOptions } from './options.ts'
export { buildViewQuery, type BuiltQuery, type ViewQueryRequest } from './query/builder.ts'
export { sourceTemplate, renderSource, SOURCE_PLACEHOLDER } from './template.ts'
export { pickCluster, clustersFrom, resolveCluster, type ClusterInfo } from './cluster.ts'
export { computeStatus } from './status.ts'
export type { JobStatus, NodeProgress, RefreshSummary, ViewDefinition, ViewJob, ViewObjects, ViewState, ViewStatus, Watermark } from './types.ts'
