/**
 * Access control of a running daemon (real broker, embedded ClickHouse): every route with no key,
 * an unknown key and a key of each scope; JSON-only state changes (a text/plain POST changes
 * nothing); the CLI's --api-key / FLOWHOUSE_API_KEY; without keys, the Host rule against DNS
 * rebinding and the refusal to listen on a non-loopback address.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { request } from 'node:http'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { ROOT, removeDir, startDaemon, tempDir, waitFor, type DaemonProcess } from '../helpers.ts'
import { call, createKey, securedDaemon, type Scope, type Secured } from './helpers.ts'

const run = promisify(execFile)
let s: Secured

before(async () => {
  s = await securedDaemon('access')
})

after(async () => {
  await s?.daemon.kill('SIGTERM')
  if (s) await removeDir(s.module.dir)
})

const event = (id: string) => ({ id, user_id: 'u1', event_type: 'click', timestamp: '2026-01-31T12:00:00Z' })

test('keys create prints a key and the entry <scope>:<sha256 of the key>', async () => {
  const { key, entry } = await createKey('ingest')
  assert.equal(entry, `ingest:${createHash('sha256').update(key).digest('hex')}`)
})

describe('every route answers 401 without a key or with an unknown one, 403 to a key of another scope, and runs for its own scope and admin', () => {
  /** `ready`: job states of the `_made` view to wait for before the admin call; `okIn`: the expected answer per state. */
  type Route = { method: string; path: string; scope: Scope | 'open'; body?: () => unknown; ok: number; ready?: string[]; okIn?: Record<string, number> }
  const jobStatus = async (view: string) => (await call(s.daemon.url, 'GET', `/api/mv/${view}`, { key: s.keys.read })).body?.job?.status
  const M = () => s.module.name
  const resolve = (p: string) => p.replace('{M}', s.module.name).replace('{V}', s.view)
  const routes: Route[] = [
    { method: 'GET', path: '/health', scope: 'open', ok: 200 },
    { method: 'GET', path: '/ready', scope: 'open', ok: 200 },
    { method: 'GET', path: '/metrics', scope: 'open', ok: 200 },
    { method: 'GET', path: '/openapi.json', scope: 'read', ok: 200 },
    { method: 'GET', path: '/api/pipelines', scope: 'read', ok: 200 },
    { method: 'POST', path: '/api/sql', scope: 'read', body: () => ({ query: 'SELECT 1 AS one' }), ok: 200 },
    { method: 'GET', path: '/api/constraints', scope: 'read', ok: 200 },
    { method: 'GET', path: '/api/constraints/{M}/types', scope: 'read', ok: 200 },
    { method: 'GET', path: '/api/constraints/{M}/types/limits', scope: 'read', ok: 200 },
    { method: 'GET', path: '/api/constraints/{M}/types/metrics', scope: 'read', ok: 200 },
    { method: 'GET', path: '/api/constraints/{M}/types/statistics', scope: 'read', ok: 200 },
    { method: 'GET', path: '/api/constraints/{M}/types/violations?limit=5', scope: 'read', ok: 200 },
    { method: 'GET', path: '/api/violations?limit=5', scope: 'read', ok: 200 },
    { method: 'GET', path: '/api/mv', scope: 'read', ok: 200 },
    { method: 'GET', path: '/api/mv/{V}', scope: 'read', ok: 200 },
    { method: 'POST', path: '/api/mv/{V}/query', scope: 'read', body: () => ({ limit: 5 }), ok: 200 },
    { method: 'POST', path: '/ingest/{M}', scope: 'ingest', body: () => [event('scope-1')], ok: 200 },
    { method: 'POST', path: '/api/constraints/{M}/types/disable', scope: 'admin', body: () => ({}), ok: 200 },
    { method: 'POST', path: '/api/constraints/{M}/types/enable', scope: 'admin', body: () => ({}), ok: 200 },
    { method: 'PUT', path: '/api/constraints/{M}/types/config', scope: 'admin', body: () => ({ config: { rules: { event_type: { enum: ['click', 'view'] } } } }), ok: 200 },
    { method: 'POST', path: '/api/mv', scope: 'admin', body: () => ({ name: `${M()}_made`, source_table: M(), select_query: 'SELECT id, user_id FROM {source_table}', order_by: ['id'], backfill: false }), ok: 201 },
    { method: 'POST', path: '/api/mv/{M}_made/backfill', scope: 'admin', body: () => ({}), ok: 202, ready: ['pending', 'completed'], okIn: { pending: 202, completed: 409 } },
    { method: 'POST', path: '/api/mv/{V}/refresh', scope: 'admin', body: () => ({}), ok: 200 },
    { method: 'DELETE', path: '/api/mv/{M}_made', scope: 'admin', ok: 200, ready: ['completed'] },
  ]
  for (const r of routes) {
    test(`${r.method} ${r.path} needs ${r.scope}`, async () => {
      const got: Record<string, number> = {}
      let ok = r.ok
      const send = async (key?: string) => (await call(s.daemon.url, r.method, resolve(r.path), { ...(key ? { key } : {}), ...(r.body ? { body: r.body() } : {}) })).status
      got.none = await send()
      got.unknown = await send('fh_not-a-configured-key')
      for (const scope of ['ingest', 'read', 'admin'] as const) {
        // The admin call runs last: for a state-changing route it is the one call that may change anything.
        // A view job that is still being created or backfilled answers 409: wait for a state the call
        // has a known answer in (a view created without backfill over an empty source is already completed).
        if (scope === 'admin' && r.ready) {
          const state = await waitFor(async () => {
            const st = await jobStatus(`${M()}_made`)
            return r.ready!.includes(st) ? st : undefined
          }, { what: `view job ${r.ready.join(' or ')}` })
          ok = r.okIn?.[state] ?? r.ok
        }
        got[scope] = await send(s.keys[scope])
      }
      const covers = (k: Scope) => r.scope === 'open' || k === 'admin' || k === r.scope
      assert.deepEqual(got, {
        none: r.scope === 'open' ? r.ok : 401,
        unknown: r.scope === 'open' ? r.ok : 401,
        ingest: covers('ingest') ? r.ok : 403,
        read: covers('read') ? r.ok : 403,
        admin: ok,
      })
    })
  }
})

test('a read key cannot change a constraint or drop a view: the 403 leaves both as they were', async () => {
  const disable = await call(s.daemon.url, 'POST', `/api/constraints/${s.module.name}/types/disable`, { key: s.keys.read, body: {} })
  assert.deepEqual([disable.status, disable.body.code], [403, 'FORBIDDEN'])
  const drop = await call(s.daemon.url, 'DELETE', `/api/mv/${s.view}`, { key: s.keys.ingest })
  assert.deepEqual([drop.status, drop.body.code], [403, 'FORBIDDEN'])
  assert.equal((await call(s.daemon.url, 'GET', `/api/constraints/${s.module.name}/types`, { key: s.keys.read })).body.enabled, true)
  assert.equal((await call(s.daemon.url, 'GET', `/api/mv/${s.view}`, { key: s.keys.read })).status, 200)
})

describe('a text/plain POST is refused with 415 and changes nothing', () => {
  test('creating a view', async () => {
    const name = `${s.module.name}_plain`
    const res = await call(s.daemon.url, 'POST', '/api/mv', { key: s.keys.admin, contentType: 'text/plain', raw: JSON.stringify({ name, source_table: s.module.name, select_query: 'SELECT id FROM {source_table}', order_by: ['id'] }) })
    assert.deepEqual([res.status, res.body.code], [415, 'UNSUPPORTED_MEDIA_TYPE'])
    assert.equal((await call(s.daemon.url, 'GET', `/api/mv/${name}`, { key: s.keys.read })).status, 404)
  })

  test('refreshing a view, disabling and re-configuring a constraint', async () => {
    const before = (await call(s.daemon.url, 'GET', `/api/mv/${s.view}`, { key: s.keys.read })).body.refresh_log
    const c = `/api/constraints/${s.module.name}/types`
    const limits = (await call(s.daemon.url, 'GET', `${c}/limits`, { key: s.keys.read })).body
    const answers = [
      await call(s.daemon.url, 'POST', `/api/mv/${s.view}/refresh?full=true`, { key: s.keys.admin, contentType: 'text/plain', raw: '{}' }),
      await call(s.daemon.url, 'POST', `${c}/disable`, { key: s.keys.admin, contentType: 'text/plain', raw: '{}' }),
      await call(s.daemon.url, 'PUT', `${c}/config`, { key: s.keys.admin, contentType: 'text/plain', raw: JSON.stringify({ config: { rules: { event_type: { enum: ['x'] } } } }) }),
      await call(s.daemon.url, 'POST', `${c}/disable`, { key: s.keys.admin, contentType: 'application/x-www-form-urlencoded', raw: 'a=1' }),
    ]
    assert.deepEqual(answers.map((a) => a.status), [415, 415, 415, 415])
    assert.deepEqual((await call(s.daemon.url, 'GET', `/api/mv/${s.view}`, { key: s.keys.read })).body.refresh_log, before)
    assert.equal((await call(s.daemon.url, 'GET', c, { key: s.keys.read })).body.enabled, true)
    assert.deepEqual((await call(s.daemon.url, 'GET', `${c}/limits`, { key: s.keys.read })).body, limits)
  })

  test('ingesting: the text/plain records never reach the table, the JSON ones after them do', async () => {
    const plain = await call(s.daemon.url, 'POST', `/ingest/${s.module.name}`, { key: s.keys.ingest, contentType: 'text/plain', raw: JSON.stringify([event('tp-1'), event('tp-2')]) })
    assert.equal(plain.status, 415)
    const json = await call(s.daemon.url, 'POST', `/ingest/${s.module.name}`, { key: s.keys.ingest, body: [event('tp-3')] })
    assert.deepEqual(json.body, { pipeline: s.module.name, accepted: 1 })
    const ids = async () => (await call(s.daemon.url, 'POST', '/api/sql', { key: s.keys.read, body: { query: `SELECT id FROM ${s.module.name} WHERE startsWith(id, 'tp-') ORDER BY id` } })).body.rows.map((r: { id: string }) => r.id)
    await waitFor(async () => (await ids()).includes('tp-3'), { what: 'tp-3 in the table' })
    assert.deepEqual(await ids(), ['tp-3'])
  })
})

test('a numeric query parameter that is not a number is a 400 naming it, not a query', async () => {
  const res = await call(s.daemon.url, 'GET', '/api/violations?limit=abc', { key: s.keys.read })
  assert.deepEqual(res.body, { error: 'querystring/limit must be integer', code: 'BAD_REQUEST' })
  assert.equal(res.status, 400)
})

describe('the CLI sends --api-key or FLOWHOUSE_API_KEY', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), ...args], { cwd: ROOT, env: { ...process.env, FLOWHOUSE_URL: s.daemon.url, FLOWHOUSE_API_KEY: '', ...env } }).then(
      (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
    )

  test('without a key flowhouse sql fails with the 401 and how to pass a key', async () => {
    const r = await cli(['sql', 'SELECT 1 AS one', '--format', 'json'])
    assert.equal(r.code, 1)
    assert.equal(r.err.trim(), 'flowhouse: an API key is required: send `Authorization: Bearer <key>` [UNAUTHORIZED] (pass a key with --api-key or FLOWHOUSE_API_KEY)')
  })

  test('with --api-key before or after the command, or FLOWHOUSE_API_KEY, sql, mv and constraints work', async () => {
    assert.deepEqual(JSON.parse((await cli(['--api-key', s.keys.read, 'sql', 'SELECT 1 AS one', '--format', 'json'])).out), [{ one: 1 }])
    assert.deepEqual(JSON.parse((await cli(['sql', 'SELECT 2 AS two', '--format', 'json', '--api-key', s.keys.read])).out), [{ two: 2 }])
    const views = JSON.parse((await cli(['mv', 'list', '--format', 'json'], { FLOWHOUSE_API_KEY: s.keys.read })).out) as Array<{ name: string }>
    assert.ok(views.some((v) => v.name === s.view))
    const denied = await cli(['constraints', 'disable', s.module.name, 'types'], { FLOWHOUSE_API_KEY: s.keys.read })
    assert.equal(denied.code, 1)
    assert.match(denied.err, /\[FORBIDDEN\]/)
    const disabled = await cli(['constraints', 'disable', s.module.name, 'types'], { FLOWHOUSE_API_KEY: s.keys.admin })
    assert.equal(JSON.parse(disabled.out).enabled, false, disabled.err)
    assert.equal(JSON.parse((await cli(['constraints', 'enable', s.module.name, 'types'], { FLOWHOUSE_API_KEY: s.keys.admin })).out).enabled, true)
  })
})

/** A request with a chosen Host header (fetch does not let one set it). */
function withHost(url: string, host: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request({ hostname: u.hostname, port: u.port, path: u.pathname, method, headers: { host, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode!, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('without keys', () => {
  let open: DaemonProcess
  let dir: string

  before(async () => {
    dir = await tempDir('nokeys')
    await mkdir(path.join(dir, 'pipelines'))
    open = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data'), env: { FLOWHOUSE_API_KEYS: '', FLOWHOUSE_API_KEYS_FILE: '', FLOWHOUSE_ALLOWED_HOSTS: 'flowhouse.internal', FLOWHOUSE_LOG_LEVEL: 'warn' } })
  })

  after(async () => {
    await open?.kill('SIGTERM')
    if (dir) await removeDir(dir)
  })

  test('a request whose Host is not a loopback name is refused with 421 (DNS rebinding), on every route', async () => {
    const port = new URL(open.url).port
    for (const [method, pathname, body] of [['GET', '/health'], ['GET', '/api/pipelines'], ['POST', '/api/sql', '{"query":"SELECT 1"}']] as const) {
      const res = await withHost(`${open.url}${pathname}`, `attacker.example:${port}`, method, body)
      assert.equal(res.status, 421, `${method} ${pathname}`)
      assert.deepEqual(JSON.parse(res.body), { error: 'Host "attacker.example" is not served: without API keys only loopback names (localhost, 127.0.0.1, [::1]) and FLOWHOUSE_ALLOWED_HOSTS are accepted', code: 'HOST_NOT_ALLOWED' })
    }
    assert.equal((await withHost(`${open.url}/api/pipelines`, `evil.flowhouse.internal:${port}`)).status, 421)
  })

  test('loopback names and FLOWHOUSE_ALLOWED_HOSTS are served without a key', async () => {
    const port = new URL(open.url).port
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `127.0.0.2:${port}`, `flowhouse.internal:${port}`]) {
      assert.equal((await withHost(`${open.url}/api/pipelines`, host)).status, 200, host)
    }
    assert.deepEqual(JSON.parse((await withHost(`${open.url}/api/sql`, `localhost:${port}`, 'POST', '{"query":"SELECT 1 AS one"}')).body), { rows: [{ one: 1 }] })
  })

  test('a text/plain or bodiless POST is still refused with 415', async () => {
    const plain = await call(open.url, 'POST', '/api/sql', { contentType: 'text/plain', raw: '{"query":"SELECT 1"}' })
    const bodiless = await fetch(`${open.url}/api/sql`, { method: 'POST' })
    assert.deepEqual([plain.status, bodiless.status], [415, 415])
  })

  test('the daemon refuses to start on 0.0.0.0 and says how to create a key', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), 'start', '--pipelines', path.join(dir, 'pipelines')], {
      cwd: ROOT,
      env: { ...process.env, FLOWHOUSE_HOST: '0.0.0.0', FLOWHOUSE_API_KEYS: '', FLOWHOUSE_API_KEYS_FILE: '', FLOWHOUSE_DATA_DIR: path.join(dir, 'data2') },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    assert.equal(code, 1)
    assert.equal(
      err.trim(),
      'flowhouse: refusing to listen on 0.0.0.0: no API keys are configured, and without keys flowhouse only listens on a loopback address (127.0.0.1, ::1, localhost). Create a key with `flowhouse keys create --scope admin` and add the printed entry to FLOWHOUSE_API_KEYS (or to the file named by FLOWHOUSE_API_KEYS_FILE), or set FLOWHOUSE_HOST=127.0.0.1',
    )
  })
})
