/**
 * A random fuzz of every route of a live daemon (127.0.0.1 only) with an admin key, for a bounded
 * time and number of requests: real and random path parameters, random query strings, random
 * JSON bodies (deep, huge numbers, prototype keys, SQL fragments), wrong content types and
 * schema-shaped bodies. No answer may be a 5xx, none may take over 5 s, and the daemon must be
 * alive and healthy afterwards. The seed is printed; FUZZ_SEED replays a run.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { metricValue, removeDir } from '../helpers.ts'
import { securedDaemon, type Secured } from './helpers.ts'

const DURATION_MS = 60_000
const MAX_REQUESTS = 60_000
const CONCURRENCY = 4
const SLOW_MS = 5_000
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000)

let s: Secured

before(async () => {
  s = await securedDaemon('fuzz')
})

after(async () => {
  await s?.daemon.kill('SIGTERM')
  if (s) await removeDir(s.module.dir)
})

/** mulberry32: a small seeded PRNG, so that a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const random = prng(SEED)
const int = (n: number) => Math.floor(random() * n)
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!
const chance = (p: number) => random() < p

const NASTY_STRINGS = [
  '', ' ', 'a', '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', "'", '"', '`', '\\', '%', '%00', '\u0000', '..', '../..', '/etc/passwd',
  "' OR 1=1 --", '1; DROP TABLE x', '{p:String}', '$where', 'NaN', 'Infinity', '-0', '1e308', '9007199254740993', 'null', 'true', '[]', '{}',
  'SELECT 1', "file('/etc/passwd')", 'SYSTEM SHUTDOWN', 'KILL QUERY WHERE 1', '💥', 'é', '\ud800', 'x'.repeat(300), 'a'.repeat(5000),
]
const SQL_FRAGMENTS = [
  'SELECT 1', 'SELECT', 'SELECT count() FROM {T}', 'SELECT * FROM {T} LIMIT 5', 'SELECT user_id, count() FROM {T} GROUP BY user_id', 'SHOW TABLES', 'DESCRIBE TABLE {T}', 'EXPLAIN SELECT 1',
  'SELECT {p:UInt8}', 'SELECT 1 UNION ALL SELECT 2', 'WITH x AS (SELECT 1) SELECT * FROM x', 'SELECT * FROM system.one', 'SELECT number FROM system.numbers LIMIT 3',
  'INSERT INTO {T} VALUES (1)', 'DROP TABLE {T}', 'SELECT 1; SELECT 2', "SELECT '", 'SELECT ((((((((((1))))))))))', 'SELECT NOT NOT NOT NOT 1', 'SET readonly = 0', 'SELECT 1 SETTINGS readonly = 0',
]

function randomScalar(): unknown {
  switch (int(8)) {
    case 0: return pick(NASTY_STRINGS)
    case 1: return int(1000) - 500
    case 2: return pick([0, -1, 1.5, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER, 2 ** 63, 1e21])
    case 3: return chance(0.5)
    case 4: return null
    case 5: return Array.from({ length: int(8) }, () => String.fromCharCode(32 + int(95))).join('')
    case 6: return new Date(Date.now() - int(1e10)).toISOString()
    default: return String(int(100))
  }
}

function randomJson(depth = 0): unknown {
  if (depth > 4 || chance(0.4)) return randomScalar()
  if (chance(0.5)) return Array.from({ length: int(5) }, () => randomJson(depth + 1))
  const o: Record<string, unknown> = {}
  for (let i = int(5); i > 0; i--) o[chance(0.3) ? pick(NASTY_STRINGS) : pick(['name', 'config', 'query', 'select', 'filter', 'group_by', 'limit', 'order_by', 'rules', 'max_events_per_second', 'type', 'columns'])] = randomJson(depth + 1)
  return o
}

/** A body shaped like the route's schema, with random values in the fields. */
function shaped(route: string): unknown {
  const T = s.module.name
  const event = () => ({ id: `f-${int(1e9)}`, user_id: chance(0.8) ? `u${int(5)}` : randomScalar(), event_type: pick(['click', 'view', 'other', randomScalar()]), timestamp: '2026-01-31T12:00:00Z', ...(chance(0.3) ? { value: randomScalar() } : {}) })
  switch (route) {
    case 'sql': return { query: pick(SQL_FRAGMENTS).replaceAll('{T}', chance(0.8) ? T : pick(NASTY_STRINGS)), ...(chance(0.3) ? { params: { p: randomScalar() } } : {}) }
    case 'ingest': return Array.from({ length: int(20) }, event)
    case 'config': return { config: chance(0.5) ? { rules: { event_type: { enum: [pick(['click', 'view', 'x'])] } } } : (randomJson() as object) }
    case 'query': return { ...(chance(0.5) ? { select: pick(['user_id, n', 'sum(n) AS n', pick(NASTY_STRINGS)]) } : {}), ...(chance(0.5) ? { filter: chance(0.5) ? pick(["user_id = 'u1'", 'n > 0', pick(NASTY_STRINGS)]) : { user_id: randomScalar() } } : {}), ...(chance(0.3) ? { limit: randomScalar() } : {}), ...(chance(0.3) ? { order_by: pick(['n DESC', 'user_id', pick(NASTY_STRINGS)]) } : {}) }
    case 'create': return { name: `${T}_f${int(3)}`, source_table: chance(0.8) ? T : pick(NASTY_STRINGS), select_query: pick(['SELECT user_id, count() AS n FROM {source_table} GROUP BY user_id', 'SELECT id FROM {source_table}', pick(NASTY_STRINGS)]), order_by: pick([['user_id'], ['id'], [pick(NASTY_STRINGS)]]), ...(chance(0.3) ? { engine: pick(['SummingMergeTree', 'MergeTree', pick(NASTY_STRINGS)]) } : {}), ...(chance(0.3) ? { columns: [{ name: 'id', type: pick(['String', 'UInt64', pick(NASTY_STRINGS)]) }] } : {}), backfill: chance(0.5) }
    default: return {}
  }
}

/** Percent-encodes; a lone surrogate becomes the (invalid UTF-8) bytes of one, which the daemon must refuse cleanly. */
function enc(v: string): string {
  try {
    return encodeURIComponent(v)
  } catch {
    return '%ED%A0%80'
  }
}

interface Target { method: string; path: string; body?: unknown; contentType?: string }

function target(): Target {
  const pipeline = () => (chance(0.8) ? s.module.name : pick(NASTY_STRINGS))
  const constraint = () => (chance(0.8) ? pick(['types', 'ingest_rate']) : pick(NASTY_STRINGS))
  const view = () => (chance(0.7) ? pick([s.view, `${s.module.name}_f0`, `${s.module.name}_f1`]) : pick(NASTY_STRINGS))
  const seg = enc
  const q = (...names: string[]) => {
    const parts = names.filter(() => chance(0.5)).map((n) => `${n}=${enc(String(n === 'limit' && chance(0.5) ? int(200) : randomScalar()))}`)
    return parts.length ? `?${parts.join('&')}` : ''
  }
  const c = () => `/api/constraints/${seg(pipeline())}/${seg(constraint())}`
  const routes: Array<() => Target> = [
    () => ({ method: 'GET', path: '/health' }),
    () => ({ method: 'GET', path: '/ready' }),
    () => ({ method: 'GET', path: '/metrics' }),
    () => ({ method: 'GET', path: '/openapi.json' }),
    () => ({ method: 'GET', path: '/api/pipelines' }),
    () => ({ method: 'POST', path: '/api/sql', body: shaped('sql') }),
    () => ({ method: 'POST', path: `/ingest/${seg(pipeline())}`, body: shaped('ingest') }),
    () => ({ method: 'GET', path: '/api/constraints' }),
    () => ({ method: 'GET', path: c() }),
    () => ({ method: 'GET', path: `${c()}/${pick(['limits', 'metrics', 'statistics'])}` }),
    () => ({ method: 'GET', path: `${c()}/violations${q('from', 'to', 'limit')}` }),
    () => ({ method: 'GET', path: `/api/violations${q('constraint', 'pipeline', 'from', 'to', 'limit')}` }),
    () => ({ method: 'POST', path: `${c()}/${pick(['enable', 'disable'])}`, body: {} }),
    () => ({ method: 'PUT', path: `${c()}/config`, body: shaped('config') }),
    () => ({ method: 'GET', path: '/api/mv' }),
    () => ({ method: 'POST', path: '/api/mv', body: shaped('create') }),
    () => ({ method: 'GET', path: `/api/mv/${seg(view())}` }),
    () => ({ method: 'POST', path: `/api/mv/${seg(view())}/backfill`, body: {} }),
    () => ({ method: 'POST', path: `/api/mv/${seg(view())}/refresh${q('full')}`, body: {} }),
    () => ({ method: 'POST', path: `/api/mv/${seg(view())}/query`, body: shaped('query') }),
    () => ({ method: 'DELETE', path: `/api/mv/${seg(chance(0.9) ? `${s.module.name}_f${int(2)}` : view())}` }),
    () => ({ method: pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']), path: pick(['/', '/api', '/api/mv/x/y/z', `/ingest`, `/api/sql`, `/${seg(pick(NASTY_STRINGS))}`]) }),
  ]
  const t = pick(routes)()
  // One request in five carries a random body, one in twenty a wrong content type.
  if (t.method !== 'GET' && t.method !== 'DELETE' && chance(0.2)) t.body = randomJson()
  if (t.body !== undefined && chance(0.05)) t.contentType = pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/JSON'])
  return t
}

test(`a ${DURATION_MS / 1000} s random fuzz of every route with an admin key: no 5xx, no answer over ${SLOW_MS / 1000} s, the daemon stays healthy`, { timeout: DURATION_MS + 120_000 }, async () => {
  const deadline = Date.now() + DURATION_MS
  const statuses = new Map<number, number>()
  const problems: string[] = []
  let sent = 0
  let slowest = 0
  const worker = async () => {
    while (Date.now() < deadline && sent < MAX_REQUESTS) {
      sent++
      const t = target()
      const started = Date.now()
      let status = 0
      try {
        const res = await fetch(`${s.daemon.url}${t.path}`, {
          method: t.method,
          headers: { authorization: `Bearer ${s.keys.admin}`, ...(t.body !== undefined ? { 'content-type': t.contentType ?? 'application/json' } : {}) },
          ...(t.body !== undefined ? { body: JSON.stringify(t.body) } : {}),
          signal: AbortSignal.timeout(SLOW_MS * 3),
        })
        status = res.status
        const text = await res.text()
        if (status >= 500) problems.push(`${status} ${t.method} ${t.path.slice(0, 200)} ${JSON.stringify(t.body)?.slice(0, 300)} → ${text.slice(0, 300)}`)
      } catch (error) {
        problems.push(`no answer (${(error as Error).message}) ${t.method} ${t.path.slice(0, 200)} ${JSON.stringify(t.body)?.slice(0, 300)}`)
      }
      const ms = Date.now() - started
      slowest = Math.max(slowest, ms)
      if (ms > SLOW_MS) problems.push(`${ms} ms ${t.method} ${t.path.slice(0, 200)} ${JSON.stringify(t.body)?.slice(0, 300)}`)
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const health = await fetch(`${s.daemon.url}/health`)
  const serverErrors = await metricValue(s.daemon.url, 'flowhouse_http_server_errors_total')
  console.log(`fuzz seed ${SEED}: ${sent} requests in ${DURATION_MS / 1000} s, slowest ${slowest} ms, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}, flowhouse_http_server_errors_total ${serverErrors}`)
  assert.deepEqual(problems.slice(0, 20), [], `seed ${SEED}`)
  assert.equal(serverErrors, 0)
  assert.equal(s.daemon.child.exitCode, null, 'the daemon exited')
  assert.equal(health.status, 200)
  assert.ok(sent > 500, `only ${sent} requests were sent`)
})
