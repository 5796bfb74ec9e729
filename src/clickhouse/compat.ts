/**
 * Column types on older ClickHouse servers. The type map (src/model/typemap.ts) targets current
 * ClickHouse; a server that lacks a data type family (Capabilities.missingTypes, read from
 * `system.data_type_families`) gets the nearest type it has, or a refusal that names the type
 * and the release that added it. Debian's clickhouse-server 18.16 lacks DateTime64, Bool and Date32.
 *
 * | declared            | stored on a server without it | what changes                              |
 * |---------------------|-------------------------------|-------------------------------------------|
 * | DateTime64(p[, tz]) | DateTime[(tz)]                | sub-second precision is dropped           |
 * | Bool                | UInt8                         | true/false are stored as 1/0              |
 * | Date32              | Date                          | only 1970-01-01 … 2149-06-06 fit          |
 * | LowCardinality(T)   | T                             | storage only                              |
 * | Map, Int128, UInt128, Int256, UInt256, IPv4, IPv6, Object, JSON | refused | no type keeps the values |
 *
 * Type texts are parsed here (name and parenthesised arguments), never matched with a regex.
 */
import { ConfigError } from '../errors.ts'
import type { ColumnDef } from '../model/types.ts'

/** Families with a stand-in: what a missing family becomes, and what the column loses. */
const FALLBACKS: Record<string, { to: (args: string[]) => string; note: string }> = {
  DateTime64: { to: (args) => (args[1] !== undefined ? `DateTime(${args[1]})` : 'DateTime'), note: 'sub-second precision is dropped' },
  Bool: { to: () => 'UInt8', note: 'true/false are stored as 1/0' },
  Date32: { to: () => 'Date', note: 'only dates from 1970-01-01 to 2149-06-06 fit' },
}

/** Families without a stand-in, with the first ClickHouse release that has them. */
export const TYPE_INTRODUCED_IN: Readonly<Record<string, string>> = {
  DateTime64: '20.1',
  Bool: '21.12',
  Date32: '21.9',
  LowCardinality: '18.12',
  Map: '21.1',
  Int128: '20.8',
  Int256: '20.8',
  UInt256: '20.8',
  UInt128: '21.6',
  IPv4: '19.3',
  IPv6: '19.3',
  Object: '22.3',
  JSON: '24.8',
}

/** The families flowhouse checks a server for (`system.data_type_families`). */
export const CHECKED_TYPE_FAMILIES: readonly string[] = Object.keys(TYPE_INTRODUCED_IN)

/** One column stored with another type than declared. */
export interface TypeFallback {
  column: string
  declared: string
  used: string
  /** What the stand-in changes for the column's values. */
  note: string
}

/** Splits `Name(a, b(c), 'x,y')` into `Name` and its top-level arguments (trimmed). */
export function parseTypeText(text: string): { name: string; args: string[] | undefined } {
  const t = text.trim()
  const open = t.indexOf('(')
  if (open < 0 || !t.endsWith(')')) return { name: t, args: undefined }
  const args: string[] = []
  let depth = 0
  let quote: string | undefined
  let start = open + 1
  for (let i = open + 1; i < t.length - 1; i++) {
    const c = t[i]!
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = undefined
    } else if (c === "'" || c === '"' || c === '`') quote = c
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === ',' && depth === 0) {
      args.push(t.slice(start, i).trim())
      start = i + 1
    }
  }
  args.push(t.slice(start, t.length - 1).trim())
  return { name: t.slice(0, open).trim(), args }
}

/** Arguments that are types themselves (Tuple elements may be `name Type`). */
const TYPE_ARGS = new Set(['Array', 'Nullable', 'LowCardinality', 'Tuple', 'Map', 'Nested'])

function adaptType(text: string, missing: ReadonlySet<string>, notes: string[], refuse: (family: string) => never): string {
  const { name, args } = parseTypeText(text)
  if (missing.has(name)) {
    const fallback = FALLBACKS[name]
    if (fallback) {
      notes.push(fallback.note)
      return fallback.to(args ?? [])
    }
    if (name === 'LowCardinality' && args?.length === 1) return adaptType(args[0]!, missing, notes, refuse)
    refuse(name)
  }
  if (!args || !TYPE_ARGS.has(name)) return text.trim()
  const inner = args.map((arg) => {
    if (name !== 'Tuple' && name !== 'Nested') return adaptType(arg, missing, notes, refuse)
    // A named element `field Type`: the name is an identifier, the type starts after the first space.
    const space = arg.indexOf(' ')
    const paren = arg.indexOf('(')
    if (space > 0 && (paren < 0 || space < paren)) return `${arg.slice(0, space)} ${adaptType(arg.slice(space + 1), missing, notes, refuse)}`
    return adaptType(arg, missing, notes, refuse)
  })
  return `${name}(${inner.join(', ')})`
}

/**
 * The columns to create on a server that lacks `missingTypes`, and the columns that changed type.
 * @param table table name, for messages.
 * @param serverVersion e.g. `18.16.1`, for messages.
 * @throws ConfigError naming the table, the column, the type, the server's version and the
 *   release that added the type, when a column needs a family without a stand-in (e.g. Map).
 */
export function adaptColumns(
  table: string,
  columns: readonly ColumnDef[],
  missingTypes: readonly string[] | undefined,
  serverVersion: string,
): { columns: ColumnDef[]; fallbacks: TypeFallback[] } {
  if (!missingTypes || missingTypes.length === 0) return { columns: [...columns], fallbacks: [] }
  const missing = new Set(missingTypes)
  const fallbacks: TypeFallback[] = []
  const adapted = columns.map((column) => {
    const refuse = (family: string): never => {
      const since = TYPE_INTRODUCED_IN[family]
      throw new ConfigError(
        `table "${table}": column "${column.name}" has type ${column.type}, and ClickHouse ${serverVersion} has no ${family} type${since ? ` (it needs ClickHouse ${since} or later)` : ''}; upgrade the server or declare the field with another type`,
        { table, field: column.name },
      )
    }
    const notes: string[] = []
    const type = adaptType(column.type, missing, notes, refuse)
    if (type === column.type.trim()) return column
    fallbacks.push({ column: column.name, declared: column.type, used: type, note: [...new Set(notes)].join('; ') })
    return { ...column, type }
  })
  return { columns: adapted, fallbacks }
}
