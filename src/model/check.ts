/**
 * checkDefinitions: the configuration rules of DESIGN.md "Config constraints" over
 * everything one module declares. Constructors already apply the per-object rules; this
 * re-applies them to the collected definitions (which may also be plain objects of the
 * *Like shapes) and adds the rules that need the whole module: destinations exist and
 * names are unique.
 */
import { checkStreamConfig, checkStreamSchema } from './check-stream.ts'
import { checkTable } from './check-table.ts'
import { checkView } from './check-view.ts'
import { checkDeclarativeFields } from './declarative.ts'
import { checkIdentifier, configError, describe, ownerOf, type Owner } from './config-error.ts'
import { checkFormat } from './format.ts'
import type { IngestPipelineLike, ModuleDefinitions, OlapTableLike, StreamLike } from './types.ts'
import { checkUniqueNames } from './unique.ts'

/**
 * Checks every definition of a module and throws a ConfigError for the FIRST violation
 * found (pipelines, then tables, streams, views, then unique names), with the message format
 * of config-error.ts. A module is started only when this returns.
 *
 * Rules: names are identifiers; a pipeline has a stream and format JSON_ARRAY or a valid
 * `{ schemaRegistry }` (format.ts);
 * tables have exactly one top-level Key, first in orderByFields, and orderByFields are
 * required scalar top-level fields; only supported types (optional arrays only without a
 * table); parallelism and retentionPeriod (seconds) positive integers; transform and
 * stream destinations are streams/tables of this module and never the stream itself; a
 * declarative view over a table of this module reads only fields of its schema; no two
 * pipelines, streams (topics) or ClickHouse objects (tables, views, view targets) share a name.
 */
export function checkDefinitions(defs: ModuleDefinitions): void {
  const ownedTables = new Set<OlapTableLike>()
  for (const pipeline of defs.pipelines) {
    checkPipeline(pipeline)
    if (pipeline.table !== undefined) ownedTables.add(pipeline.table)
  }
  for (const table of defs.tables) {
    if (ownedTables.has(table)) continue
    const owner = ownerOf('table', table.name, table.pipeline)
    checkIdentifier(owner, undefined, table.name, 'the name')
    checkTable(owner, table.schema, table.config)
  }
  for (const stream of defs.streams) checkStream(stream, defs)
  for (const view of defs.views) {
    checkView(view)
    // A declarative view over a table named as a string: check its fields once the table is known.
    const source = typeof view.source === 'string' ? defs.tables.find((table) => table.name === view.source) : undefined
    if (view.declarative !== undefined && source !== undefined) checkDeclarativeFields({ kind: 'view', name: view.name }, view.declarative, source.schema, source.name)
  }
  checkUniqueNames(defs)
}

function checkPipeline(pipeline: IngestPipelineLike): void {
  const owner: Owner = { kind: 'pipeline', name: pipeline.name }
  checkIdentifier(owner, undefined, pipeline.name, 'the name')
  checkFormat(owner, pipeline.format, pipeline.ingestApi)
  if (pipeline.stream?.kind !== 'stream') {
    throw configError(owner, { option: 'stream' }, 'option', `a pipeline always has a stream (got ${describe(pipeline.stream)})`, 'remove stream: false, or pass true or { parallelism, retentionPeriod }')
  }
  if (pipeline.table !== undefined) checkTable(owner, pipeline.table.schema, pipeline.table.config)
}

function checkStream(stream: StreamLike, defs: ModuleDefinitions): void {
  const owner = ownerOf('stream', stream.name, stream.pipeline)
  checkIdentifier(owner, undefined, stream.name, 'the name')
  checkStreamSchema(owner, stream.schema)
  checkStreamConfig(owner, stream.config)
  if (stream.destination !== undefined && !(stream.destination.kind === 'table' && defs.tables.includes(stream.destination))) {
    throw configError(owner, { option: 'destination' }, 'destination', `table ${describeName(stream.destination)} is not part of this module`, 'pass an OlapTable declared in the same module')
  }
  for (const transform of stream.transforms) {
    const destination = transform.destination
    const known = destination?.kind === 'stream' ? defs.streams.includes(destination) : destination?.kind === 'table' && defs.tables.includes(destination)
    if (!known) {
      throw configError(owner, { transform: transform.index }, 'destination', `destination ${describeName(destination)} is not a stream or table of this module`, 'pass the Stream or OlapTable object, or declare one with that name in the same module')
    }
    if (destination === stream) {
      throw configError(owner, { transform: transform.index }, 'destination', 'a stream must not transform into itself (records would loop forever)', 'send the records to another stream or to a table')
    }
    if (typeof transform.fn !== 'function') {
      throw configError(owner, { transform: transform.index }, 'destination', `the transform must be a function (got ${describe(transform.fn)})`, 'pass (record) => records, a record, or null')
    }
  }
}

function describeName(value: unknown): string {
  const name = typeof value === 'object' && value !== null ? (value as { name?: unknown }).name : undefined
  return typeof name === 'string' ? `"${name}"` : describe(value)
}
