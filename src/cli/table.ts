/** Plain-text tables for the CLI: one column per key, no index column (console.table adds one). */

function cell(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/**
 * Formats rows as an aligned text table: a header line of the keys (in first-seen order), a rule,
 * then one line per row. Numbers are right-aligned. @returns '(no rows)' for an empty list.
 */
export function formatTable(rows: ReadonlyArray<Record<string, unknown>>): string {
  if (rows.length === 0) return '(no rows)'
  const keys: string[] = []
  for (const row of rows) for (const k of Object.keys(row)) if (!keys.includes(k)) keys.push(k)
  const cells = rows.map((row) => keys.map((k) => cell(row[k])))
  const numeric = keys.map((k) => rows.every((row) => row[k] === undefined || row[k] === null || typeof row[k] === 'number'))
  const widths = keys.map((k, i) => Math.max(k.length, ...cells.map((c) => c[i]!.length)))
  const line = (values: string[]) => values.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd()
  return [line(keys), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n')
}

/** Prints rows with formatTable. */
export function printTable(rows: ReadonlyArray<Record<string, unknown>>): void {
  console.log(formatTable(rows))
}
