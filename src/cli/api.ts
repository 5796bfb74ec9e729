/**
 * The CLI's one client of a running daemon's HTTP API (`sql`, `mv`, `constraints`).
 * The daemon URL comes from `--url` or FLOWHOUSE_URL (default http://127.0.0.1:4000), the API key
 * from `--api-key` or FLOWHOUSE_API_KEY, sent as `Authorization: Bearer <key>`.
 * Requests that change state always carry a JSON body (`{}` when there is nothing to send):
 * the daemon refuses any other body with 415.
 */
import { setting } from '../util/environment.ts'

export const DEFAULT_URL = setting('FLOWHOUSE_URL', {})

/** Where and how to call the daemon. */
export interface ApiTarget {
  url: string
  /** API key; none when the daemon runs without keys (loopback). */
  apiKey?: string
}

/** The target from flags, falling back to FLOWHOUSE_URL / FLOWHOUSE_API_KEY. */
export function apiTarget(flags: { url?: string; apiKey?: string } = {}, env?: NodeJS.ProcessEnv): ApiTarget {
  const apiKey = flags.apiKey ?? setting('FLOWHOUSE_API_KEY', env)
  return { url: flags.url ?? setting('FLOWHOUSE_URL', env), ...(apiKey ? { apiKey } : {}) }
}

/**
 * Calls the daemon's API. @returns the JSON body.
 * @throws Error with the daemon's error message and code when it answers 4xx/5xx (401/403 say
 *   how to pass a key), or when it cannot be reached.
 */
export async function callApi(target: ApiTarget, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const sendsBody = body !== undefined || method === 'POST' || method === 'PUT' || method === 'PATCH'
  let response: Response
  try {
    response = await fetch(new URL(path, target.url), {
      method,
      headers: { ...(sendsBody ? { 'content-type': 'application/json' } : {}), ...(target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}) },
      ...(sendsBody ? { body: JSON.stringify(body ?? {}) } : {}),
    })
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    throw new Error(`cannot reach the daemon at ${target.url} (${cause?.code ?? cause?.message ?? (error as Error).message}); is \`flowhouse start\` running there? (set --url or FLOWHOUSE_URL)`)
  }
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>
  if (!response.ok) {
    const hint = response.status === 401 || response.status === 403 ? ' (pass a key with --api-key or FLOWHOUSE_API_KEY)' : ''
    throw new Error(`${json.error ?? `HTTP ${response.status}`}${json.code ? ` [${json.code}]` : ''}${hint}`)
  }
  return json
}
