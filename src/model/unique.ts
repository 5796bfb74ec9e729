/**
 * Name uniqueness within a module. Three namespaces: pipelines (ingest routes), streams
 * (Kafka topics), and ClickHouse objects (tables, materialized views and view targets share
 * one database namespace).
 */
import { configError, ownerOf, type Owner, type Subject } from './config-error.ts'
import type { ModuleDefinitions } from './types.ts'

interface Claim {
  name: string
  owner: Owner
  subject: Subject
  /** How the claim is described to the owner of a later, conflicting claim. */
  label: string
  object: object
}

/** Throws ConfigError (rule `unique-name`) for the first name claimed twice in one namespace. */
export function checkUniqueNames(defs: ModuleDefinitions): void {
  claimAll('pipeline', defs.pipelines.map((pipeline) => ({ name: pipeline.name, owner: { kind: 'pipeline', name: pipeline.name }, subject: undefined, label: `pipeline "${pipeline.name}"`, object: pipeline })))
  claimAll(
    'Kafka topic',
    defs.streams.map((stream) => ({ name: stream.name, owner: ownerOf('stream', stream.name, stream.pipeline), subject: undefined, label: labelOf('stream', stream.name, stream.pipeline), object: stream })),
  )
  claimAll('ClickHouse table and view', [
    ...defs.tables.map((table) => ({ name: table.name, owner: ownerOf('table', table.name, table.pipeline), subject: undefined, label: labelOf('table', table.name, table.pipeline), object: table })),
    ...defs.views.map((view): Claim => ({ name: view.name, owner: { kind: 'view', name: view.name }, subject: undefined, label: `view "${view.name}"`, object: view })),
    ...defs.views.map((view): Claim => ({ name: view.target?.name, owner: { kind: 'view', name: view.name }, subject: { option: 'target.name' }, label: `the target table of view "${view.name}"`, object: view.target })),
  ])
}

function claimAll(namespace: string, claims: Claim[]): void {
  const first = new Map<string, Claim>()
  for (const claim of claims) {
    const earlier = first.get(claim.name)
    if (earlier === undefined) first.set(claim.name, claim)
    else if (earlier.object !== claim.object) {
      throw configError(claim.owner, claim.subject, 'unique-name', `the name "${claim.name}" is already used by ${earlier.label} (${namespace} names must be unique)`, 'rename one of them')
    }
  }
}

function labelOf(kind: 'stream' | 'table', name: string, pipeline: string | undefined): string {
  return pipeline === undefined ? `${kind} "${name}"` : `the ${kind} of pipeline "${pipeline}"`
}
