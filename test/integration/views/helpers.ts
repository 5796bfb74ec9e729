/**
 * Helpers of the materialized-view integration tests: the /api/mv calls and waits on job status.
 */
import { waitFor } from '../helpers.ts'

/** Calls the daemon's API; resolves with the HTTP status and the JSON body. */
export async function api<T = Record<string, unknown>>(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method,
    // State-changing requests always carry a JSON body (the daemon answers 415 otherwise).
    ...(body === undefined && (method === 'GET' || method === 'DELETE') ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) }),
  })
  return { status: res.status, body: (await res.json()) as T }
}

export interface JobView {
  name: string
  status: string
  cutoff: string | null
  total_rows: number
  processed_rows: number
  progress_percent: number
  last_position: string | null
  attempts: number
  error_message: string | null
  statements: string[]
  source_version: number | null
  cluster_name: string | null
  nodes: Array<{ node: string; cutoff: string | null; total_rows: number; processed_rows: number; last_position: string | null }>
}

export interface Details {
  job: JobView
  status: { state: string; lastRefresh: string | null; staleSince: string | null; stalenessSeconds: number; usable: boolean; gracePeriodSeconds: number }
  refresh_log: { refresh_count: number; avg_refresh_time_ms: number; last_refresh_time_ms: number | null; last_refreshed_at: string | null; failures: number }
  metadata: { columns: Array<{ name: string; type: string }>; objects: Record<string, string>; dependencies: { source: string; creates: string[] } }
  statistics: { rows: number; bytes: number; parts: number }
}

/** GET /api/mv/:name; throws on a non-200 answer. */
export async function details(url: string, name: string): Promise<Details> {
  const { status, body } = await api<Details & { error?: string }>(url, 'GET', `/api/mv/${name}`)
  if (status !== 200) throw new Error(`GET /api/mv/${name}: ${status} ${body.error}`)
  return body
}

/** Waits until the view's job is completed; fails fast when it failed. */
export async function waitCompleted(url: string, name: string, timeoutMs = 300_000): Promise<Details> {
  const d = await waitFor(
    async () => {
      const d = await details(url, name)
      return d.job.status === 'completed' || d.job.status === 'failed' ? d : undefined
    },
    { timeoutMs, intervalMs: 200, what: `view ${name} to complete` },
  )
  if (d.job.status === 'failed') throw new Error(`the job of view ${name} failed: ${d.job.error_message}`)
  return d
}
