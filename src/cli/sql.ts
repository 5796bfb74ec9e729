/** `flowhouse sql`: posts a query to a running daemon's `/api/sql` and prints the rows. */

/** @throws when the daemon cannot be reached or answers with an error. */
export async function sqlCommand(query: string, url: string, format: string): Promise<void> {
  const response = await fetch(new URL('/api/sql', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  })
  const body = (await response.json()) as { rows?: Record<string, unknown>[]; error?: string }
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`)
  const rows = body.rows ?? []
  if (format === 'json') console.log(JSON.stringify(rows, null, 2))
  else if (rows.length === 0) console.log('(no rows)')
  else console.table(rows)
}
