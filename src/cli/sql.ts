/** `flowhouse sql`: posts a query to a running daemon's `/api/sql` and prints the rows. */
import { callApi, type ApiTarget } from './api.ts'
import { printTable } from './table.ts'

/** @throws when the daemon cannot be reached or answers with an error. */
export async function sqlCommand(query: string, target: ApiTarget, format: string): Promise<void> {
  const body = await callApi(target, 'POST', '/api/sql', { query })
  const rows = (body.rows ?? []) as Array<Record<string, unknown>>
  if (format === 'json') console.log(JSON.stringify(rows, null, 2))
  else printTable(rows)
}
