/**
 * collectDefinitions: what a pipeline module declares, from its exports.
 */
import { RESOLVE_NAMES, modelKindOf, type NameLookup } from './brand.ts'
import type { IngestPipelineLike, MaterializedViewLike, ModuleDefinitions, OlapTableLike, StreamLike } from './types.ts'

/** Arrays and plain objects are searched this deep for model objects (e.g. `export default { pipelines: [a, b] }`). */
const MAX_CONTAINER_DEPTH = 3

/**
 * Walks a module's exports (`moduleNamespace`, e.g. the result of `import(file)`) and returns
 * every pipeline, stream, table and view it declares: exported ones, ones inside exported
 * arrays and plain objects, and un-exported ones reachable by reference (pipeline.stream,
 * pipeline.table, stream.destination, transform destinations, a view's source object).
 * Each object appears once (deduplicated by identity), in the order first reached.
 *
 * Then resolves destinations given by name: a transform's name resolves to the module's
 * stream of that name, else its table; a stream `destination` name to a table. Throws
 * ConfigError (rule `destination`) for a name not declared in the module. Other rules are
 * left to checkDefinitions.
 */
export function collectDefinitions(file: string, moduleNamespace: Record<string, unknown>): ModuleDefinitions {
  const defs: ModuleDefinitions = { file, pipelines: [], streams: [], tables: [], views: [] }
  const seen = new Set<unknown>()

  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || seen.has(value)) return
    const kind = modelKindOf(value)
    if (kind === undefined) {
      if (depth >= MAX_CONTAINER_DEPTH || !isContainer(value)) return
      seen.add(value)
      for (const item of Array.isArray(value) ? value : Object.values(value)) visit(item, depth + 1)
      return
    }
    seen.add(value)
    if (kind === 'pipeline') {
      const pipeline = value as IngestPipelineLike
      defs.pipelines.push(pipeline)
      visit(pipeline.stream, 0)
      visit(pipeline.table, 0)
    } else if (kind === 'stream') {
      const stream = value as StreamLike
      defs.streams.push(stream)
      visit(stream.destination, 0)
      for (const transform of stream.transforms) visit(transform.destination, 0)
    } else if (kind === 'table') {
      defs.tables.push(value as OlapTableLike)
    } else {
      const view = value as MaterializedViewLike
      defs.views.push(view)
      visit(view.source, 0)
    }
  }

  for (const value of Object.values(moduleNamespace)) visit(value, 0)
  resolveNames(defs)
  return defs
}

function resolveNames(defs: ModuleDefinitions): void {
  const lookup: NameLookup = {
    stream: (name) => defs.streams.find((stream) => stream.name === name),
    table: (name) => defs.tables.find((table) => table.name === name),
  }
  for (const stream of defs.streams) {
    const resolve = (stream as { [RESOLVE_NAMES]?: (lookup: NameLookup) => void })[RESOLVE_NAMES]
    resolve?.call(stream, lookup)
  }
}

function isContainer(value: object): boolean {
  if (Array.isArray(value)) return true
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}
