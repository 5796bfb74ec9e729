/**
 * Dotted paths into a record schema: `'origin'` is a top-level field, `'properties.mag'` the
 * field `mag` of the object `properties` (optional or nullable objects included). Used by
 * constraint rules and declarative views, which name fields this way.
 */
import type { TSchema } from '@sinclair/typebox'

type Node = Record<string, unknown>

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The object schema behind a node: itself, or the object member of `T | null`. */
function objectOf(node: unknown): Node | undefined {
  if (!isNode(node)) return undefined
  if (isNode(node.properties)) return node
  const members = (node.anyOf ?? node.oneOf) as unknown
  if (Array.isArray(members)) return members.map(objectOf).find((member) => member !== undefined)
  return undefined
}

/**
 * The schema of the field at `path`, or undefined when the schema has no such field. Each dot
 * is one level of nesting (a key that itself contains a dot cannot be reached this way).
 */
export function fieldAtPath(schema: TSchema, path: string): TSchema | undefined {
  let node: unknown = schema
  for (const part of path.split('.')) {
    const object = objectOf(node)
    if (object === undefined || !Object.hasOwn(object.properties as Node, part)) return undefined
    node = (object.properties as Node)[part]
  }
  return node as TSchema
}

/** Every field path of a schema, depth first in schema order: `id`, `properties`, `properties.mag` ... */
export function fieldPaths(schema: TSchema): string[] {
  const out: string[] = []
  const visit = (node: unknown, prefix: string): void => {
    const object = objectOf(node)
    if (object === undefined) return
    for (const [name, child] of Object.entries(object.properties as Node)) {
      const path = prefix === '' ? name : `${prefix}.${name}`
      out.push(path)
      visit(child, path)
    }
  }
  visit(schema, '')
  return out
}

/** `"a", "b", "c"` and `…` after `max` paths: for messages that list the fields a schema has. */
export function listPaths(paths: readonly string[], max = 12): string {
  const shown = paths.slice(0, max).map((p) => JSON.stringify(p))
  return paths.length > max ? `${shown.join(', ')}, …` : shown.join(', ')
}
