/**
 * The CLI's one HTTP client for a running daemon's API (`flowhouse sql`, `mv`, `constraints`,
 * `dlq`, `peek`, `reset`). Every command takes `--url` (wins) or FLOWHOUSE_URL, default
 * http://127.0.0.1:4000.
 */

/** Default daemon URL when neither --url nor FLOWHOUSE_URL is given. */
export const DEFAULT_URL = 'http://127.0.0.1:4000'

/** The daemon URL: `--url` wins over FLOWHOUSE_URL, then DEFAULT_URL. */
export function daemonUrl(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return option ?? env.FLOWHOUSE_URL ?? DEFAULT_URL
}

/**
 * Calls the daemon's API. @returns the JSON body of a 2xx answer.
 * @throws Error naming the URL when the daemon cannot be reached, or with the daemon's error
 *   message (and code) when it answers 4xx/5xx.
 */
export async function callApi(url: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  let response: Response
  try {
    response = await fetch(new URL(path, url), {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    })
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    throw new Error(`cannot reach the daemon at ${url} (${cause?.code ?? cause?.message ?? (error as Error).message}); is \`flowhouse start\` running there? (set --url or FLOWHOUSE_URL)`)
  }
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>
  if (!response.ok) throw new Error(`${json.error ?? `HTTP ${response.status}`}${json.code ? ` [${json.code}]` : ''}`)
  return json
}
