/**
 * Finding and checking the Key field (contract: exactly one `Key` field, at the top level,
 * when the schema backs a table).
 */
import type { TSchema } from '@sinclair/typebox'
import { KEY_KEYWORD } from './annotations.ts'
import { configError, quoteList, type Owner } from './config-error.ts'

/** Paths of every node marked Key, in schema order: `id`, `route.origin`, `tags[]`. */
export function keyPaths(schema: unknown): string[] {
  const paths = new Set<string>()
  const visit = (node: unknown, path: string): void => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return
    const record = node as Record<string, unknown>
    if (record[KEY_KEYWORD] === true && path !== '') paths.add(path)
    for (const member of [record.anyOf, record.oneOf].flat()) if (member !== undefined) visit(member, path)
    if (record.items !== undefined && !Array.isArray(record.items)) visit(record.items, `${path}[]`)
    const properties = record.properties
    if (typeof properties === 'object' && properties !== null) {
      for (const [name, child] of Object.entries(properties)) visit(child, path === '' ? name : `${path}.${name}`)
    }
  }
  visit(schema, '')
  return [...paths]
}

/**
 * Checks the Key marks of a schema: never nested, at most one, and exactly one when
 * `required` (the schema backs a table). Returns the Key field name, if any.
 * Throws ConfigError (rule `key`).
 */
export function checkKeys(owner: Owner, schema: TSchema, required: boolean): string | undefined {
  const paths = keyPaths(schema)
  const nested = paths.find((path) => path.includes('.') || path.includes('[]'))
  if (nested !== undefined) {
    throw configError(owner, { field: nested }, 'key', 'Key must be on a top-level field', 'move Key(...) to a top-level field of the schema')
  }
  if (paths.length > 1) {
    throw configError(owner, undefined, 'key', `fields ${quoteList(paths)} are all marked Key`, 'keep Key on exactly one top-level field')
  }
  if (paths.length === 0 && required) {
    throw configError(owner, undefined, 'key', 'no field is marked Key', 'wrap exactly one top-level field in Key(...), e.g. id: Key(t.String())')
  }
  return paths[0]
}
