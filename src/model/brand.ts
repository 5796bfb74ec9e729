/**
 * Recognising model objects. Classes carry a registry symbol (`Symbol.for`) so that objects
 * built by another copy of flowhouse (a pipelines folder with its own node_modules) are still
 * recognised, which `instanceof` would not do.
 */
import type { IngestPipelineLike, MaterializedViewLike, OlapTableLike, StreamLike } from './types.ts'

/** Symbol under which every model object stores its kind. */
export const MODEL_KIND: unique symbol = Symbol.for('flowhouse.model.kind')
/** Method of Stream that resolves destinations given by name; called by collectDefinitions. */
export const RESOLVE_NAMES: unique symbol = Symbol.for('flowhouse.model.resolveNames')

export type ModelObject = IngestPipelineLike | StreamLike | OlapTableLike | MaterializedViewLike
export type ModelKind = ModelObject['kind']

/** Looks up definitions of the module being collected by name. */
export interface NameLookup {
  stream(name: string): StreamLike | undefined
  table(name: string): OlapTableLike | undefined
}

/** The kind of a model object built by flowhouse's classes, or undefined for anything else. */
export function modelKindOf(value: unknown): ModelKind | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const kind = (value as { [MODEL_KIND]?: unknown })[MODEL_KIND]
  return kind === 'pipeline' || kind === 'stream' || kind === 'table' || kind === 'view' ? kind : undefined
}
