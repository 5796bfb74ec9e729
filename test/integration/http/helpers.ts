/**
 * Shared setup of the HTTP contract tests: keys made by `flowhouse keys create`, a daemon
 * configured with them (real broker, embedded ClickHouse) running an events pipeline with two
 * constraints and one API-created view, and a request helper.
 */
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { ROOT, startDaemon, waitFor, type DaemonProcess } from '../helpers.ts'
import { eventsModule, type EventsModule } from '../constraints/helpers.ts'

const run = promisify(execFile)

export type Scope = 'ingest' | 'read' | 'admin'

/** Runs `flowhouse keys create --scope <scope>` and reads the key and the entry it prints. */
export async function createKey(scope: Scope): Promise<{ key: string; entry: string }> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), 'keys', 'create', '--scope', scope], { cwd: ROOT })
  const key = /^key: +(\S+)$/m.exec(stdout)?.[1]
  const entry = /^entry: +(\S+)$/m.exec(stdout)?.[1]
  if (!key || !entry) throw new Error(`unexpected output of keys create:\n${stdout}`)
  return { key, entry }
}

export interface Secured {
  daemon: DaemonProcess
  module: EventsModule
  keys: Record<Scope, string>
  /** A view created through the API over the pipeline's table. */
  view: string
}

/** Answer of the daemon: status, JSON body (or text) and headers. */
export interface Answer {
  status: number
  body: any
  headers: Headers
}

/** One request; `body` is sent as JSON unless `contentType` says otherwise. */
export async function call(url: string, method: string, pathname: string, options: { key?: string; body?: unknown; contentType?: string; raw?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.key) headers.authorization = `Bearer ${options.key}`
  let body: string | undefined
  if (options.raw !== undefined || options.body !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json'
    body = options.raw ?? JSON.stringify(options.body)
  }
  const res = await fetch(`${url}${pathname}`, { method, headers, ...(body !== undefined ? { body } : {}) })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    /* not JSON (metrics) */
  }
  return { status: res.status, body: parsed, headers: res.headers }
}

/**
 * Starts a daemon with an admin and a read key in FLOWHOUSE_API_KEYS and an ingest key in
 * FLOWHOUSE_API_KEYS_FILE, all made by the CLI, and creates a view through the API.
 */
export async function securedDaemon(prefix: string, env: Record<string, string> = {}): Promise<Secured> {
  const module = await eventsModule(
    prefix,
    `[
      new Constraint({ name: 'ingest_rate', type: 'rate', priority: 10, config: { max_events_per_second: 100000 } }),
      new Constraint({ name: 'types', type: 'validation', config: { rules: { event_type: { enum: ['click', 'view'] } } } }),
    ]`,
  )
  const [admin, read, ingest] = await Promise.all([createKey('admin'), createKey('read'), createKey('ingest')])
  const keysFile = path.join(module.dir, 'api-keys')
  await writeFile(keysFile, `# the ingest key\n${ingest.entry}\n`)
  const daemon = await startDaemon({
    pipelinesDir: module.pipelinesDir,
    dataDir: module.dataDir,
    env: { FLOWHOUSE_API_KEYS: `${admin.entry},${read.entry}`, FLOWHOUSE_API_KEYS_FILE: keysFile, FLOWHOUSE_LOG_LEVEL: 'warn', FLOWHOUSE_BATCH_FLUSH_MS: '200', FLOWHOUSE_GROUP_PREFIX: `fh-${module.name}`, ...env },
  })
  const keys = { admin: admin.key, read: read.key, ingest: ingest.key }
  const view = `${module.name}_by_user`
  const created = await call(daemon.url, 'POST', '/api/mv', {
    key: keys.admin,
    body: { name: view, source_table: module.name, select_query: 'SELECT user_id, count() AS n FROM {source_table} GROUP BY user_id', engine: 'SummingMergeTree', order_by: ['user_id'] },
  })
  if (created.status !== 201) throw new Error(`creating the view answered ${created.status}: ${JSON.stringify(created.body)}`)
  await waitFor(async () => ((await call(daemon.url, 'GET', `/api/mv/${view}`, { key: keys.read })).body?.job?.status === 'completed'), { what: 'the view backfill' })
  return { daemon, module, keys, view }
}
