/**
 * A name in ClickHouse backquotes with `\` and `` ` `` backslash-escaped: `` `unit price` ``,
 * `` `a\`b` ``. The name is not checked here (see src/clickhouse/sql.ts quoteIdentifier).
 * The escaping is ClickHouse's own for quoted identifiers, the same on 18.16 and current releases.
 */
export function backquote(name: string): string {
  return '`' + name.replace(/[\\`]/g, (c) => '\\' + c) + '`'
}
