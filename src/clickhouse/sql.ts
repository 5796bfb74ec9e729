/**
 * SQL text building blocks: validated, backquoted identifiers and escaped literals. Every
 * name flowhouse writes into SQL goes through `quoteIdentifier`; every value through
 * `sqlString` / `settingValueSql`. The escaping works on ClickHouse 18.16 and on current
 * releases alike (backslash escapes inside quotes).
 */
import { ConfigError } from '../errors.ts'
import { backquote } from '../util/backquote.ts'

/** Kinds of names, used in error messages. */
export type IdentifierKind = 'database' | 'table' | 'view' | 'column' | 'setting'

/** Letters, digits, `_` and `-`, starting with a letter or `_`, at most 128 characters. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/
/** Setting names are plain words (`non_replicated_deduplication_window`). */
const SETTING = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/

/** Column names: any non-empty text of at most 1024 characters without NUL (any JSON key is a field name). */
const COLUMN_MAX_LENGTH = 1_024

/**
 * Checks a database, table, view or column name. Columns take any JSON key (`Rotten Tomatoes
 * Rating`, `unit price`); other objects are plain identifiers.
 * @returns the name unchanged.
 * @throws ConfigError naming the kind and the rule when the name is not allowed.
 */
export function assertIdentifier(name: string, kind: IdentifierKind): string {
  if (kind === 'column') {
    if (typeof name === 'string' && name.length > 0 && name.length <= COLUMN_MAX_LENGTH && !name.includes('\0')) return name
    throw new ConfigError(`column name ${JSON.stringify(name)} is not allowed: use 1 to ${COLUMN_MAX_LENGTH} characters without NUL`, { field: String(name) })
  }
  const rule = kind === 'setting' ? SETTING : IDENTIFIER
  if (typeof name !== 'string' || !rule.test(name)) {
    const allowed = kind === 'setting' ? 'letters, digits and "_"' : 'letters, digits, "_" and "-"'
    throw new ConfigError(
      `${kind} name ${JSON.stringify(name)} is not a valid ClickHouse identifier: use ${allowed}, starting with a letter or "_" (at most 128 characters)`,
      { [kind]: String(name) },
    )
  }
  return name
}

/**
 * A validated name in backquotes, e.g. `quoteIdentifier('events', 'table')` → `` `events` ``;
 * `\` and `` ` `` inside a column name are backslash-escaped (`` `unit price` ``, `` `a\`b` ``).
 * @throws ConfigError when the name is not a valid identifier (see assertIdentifier).
 */
export function quoteIdentifier(name: string, kind: IdentifierKind = 'table'): string {
  return backquote(assertIdentifier(name, kind))
}

/** `` `db`.`name` `` with both parts validated. @throws ConfigError on an invalid name. */
export function qualifiedName(database: string, name: string, kind: IdentifierKind = 'table'): string {
  return `${quoteIdentifier(database, 'database')}.${quoteIdentifier(name, kind)}`
}

/** A single-quoted string literal; `\` and `'` are backslash-escaped, control characters too. */
export function sqlString(value: string): string {
  const escaped = value.replace(/[\\'\n\r\t\0]/g, (c) => {
    switch (c) {
      case '\n':
        return '\\n'
      case '\r':
        return '\\r'
      case '\t':
        return '\\t'
      case '\0':
        return '\\0'
      default:
        return '\\' + c
    }
  })
  return `'${escaped}'`
}

/**
 * A setting value as SQL: numbers as they are, booleans as 1/0, strings quoted.
 * @throws RangeError for a non-finite number (a programmer error).
 */
export function settingValueSql(value: string | number | boolean): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`setting value ${value} is not a finite number`)
    return String(value)
  }
  if (typeof value === 'boolean') return value ? '1' : '0'
  return sqlString(value)
}

/**
 * `name = value, ...` for a SETTINGS clause, in the object's key order; `undefined` values
 * are skipped. @throws ConfigError on an invalid setting name.
 */
export function settingsSql(settings: Record<string, string | number | boolean | undefined>): string {
  return Object.entries(settings)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([name, value]) => `${assertIdentifier(name, 'setting')} = ${settingValueSql(value)}`)
    .join(', ')
}
