import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { parseApiKeys, resolveConfig } from '../../../src/config.ts'
import { ConfigError, FlowhouseError, QueryError, RequestError, ViewNotFoundError } from '../../../src/errors.ts'
import { checkListenAddress, covers, createApiKey, hostName, isLoopbackHost, scopesOf } from '../../../src/http/auth.ts'
import { errorAnswer } from '../../../src/http/errors.ts'
import { access, KEYS, stubServer } from './stub.ts'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

test('a created key is fh_ plus 43 base64url characters and its entry is the scope and the sha256 of the key', () => {
  const { key, entry } = createApiKey('read')
  assert.match(key, /^fh_[A-Za-z0-9_-]{43}$/)
  assert.equal(entry, `read:${sha(key)}`)
  assert.notEqual(createApiKey('read').key, key)
})

test('FLOWHOUSE_API_KEYS entries parse to scope and digest; a malformed entry is refused by position without echoing it', () => {
  const keys = parseApiKeys([`admin:${sha('a')}`, ' ', `# comment`, `ingest:${sha('b').toUpperCase()}`], 'FLOWHOUSE_API_KEYS')
  assert.deepEqual(keys.map((k) => [k.scope, k.sha256.toString('hex')]), [['admin', sha('a')], ['ingest', sha('b')]])
  assert.throws(() => parseApiKeys([`admin:${sha('a')}`, 'root:fh_secret'], 'FLOWHOUSE_API_KEYS'), {
    message: 'FLOWHOUSE_API_KEYS entry 2 is not <scope>:<sha256 hex of the key> with scope ingest, read, admin (only the hash is configured, never the key); create one with `flowhouse keys create --scope <ingest|read|admin>`',
  })
  assert.throws(() => resolveConfig({ FLOWHOUSE_API_KEYS: 'admin:abc' }), ConfigError)
  assert.throws(() => resolveConfig({ FLOWHOUSE_METRICS_AUTH: 'admin' }), { message: 'environment FLOWHOUSE_METRICS_AUTH="admin": must be none or read' })
  assert.deepEqual(resolveConfig({}).access, { apiKeys: [], metricsAuth: 'none', allowedHosts: [] })
})

test('a bearer key maps to the scopes of every matching entry; an unknown key to none; a missing or non-bearer header to undefined', () => {
  const keys = access().apiKeys
  assert.deepEqual(scopesOf(keys, `Bearer ${KEYS.read}`), ['read'])
  assert.deepEqual(scopesOf(keys, `bearer ${KEYS.admin}`), ['admin'])
  assert.deepEqual(scopesOf(keys, 'Bearer fh_nope'), [])
  assert.equal(scopesOf(keys, undefined), undefined)
  assert.equal(scopesOf(keys, `Basic ${KEYS.read}`), undefined)
})

test('admin covers every scope; read and ingest cover only themselves', () => {
  assert.deepEqual(
    (['ingest', 'read', 'admin'] as const).map((held) => (['open', 'ingest', 'read', 'admin'] as const).map((needed) => covers(held, needed))),
    [
      [true, true, false, false],
      [true, false, true, false],
      [true, true, true, true],
    ],
  )
})

test('loopback names are localhost, 127.0.0.0/8 and ::1; Host headers lose their port', () => {
  for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', 'LOCALHOST.']) assert.ok(isLoopbackHost(h), h)
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'attacker.example', '127.0.0.1.nip.io', 'localhost.attacker.example', '']) assert.ok(!isLoopbackHost(h), h)
  assert.equal(hostName('Example.COM:4000'), 'example.com')
  assert.equal(hostName('[::1]:4000'), '[::1]')
  assert.equal(hostName('127.0.0.1'), '127.0.0.1')
})

test('without keys the daemon refuses a non-loopback listen address with how to create a key', () => {
  assert.throws(() => checkListenAddress('0.0.0.0', { apiKeys: [], metricsAuth: 'none', allowedHosts: [] }), {
    message:
      'refusing to listen on 0.0.0.0: no API keys are configured, and without keys flowhouse only listens on a loopback address (127.0.0.1, ::1, localhost). Create a key with `flowhouse keys create --scope admin` and add the printed entry to FLOWHOUSE_API_KEYS (or to the file named by FLOWHOUSE_API_KEYS_FILE), or set FLOWHOUSE_HOST=127.0.0.1',
  })
  checkListenAddress('127.0.0.1', { apiKeys: [], metricsAuth: 'none', allowedHosts: [] })
  checkListenAddress('0.0.0.0', access())
})

test('the error mapping gives every flowhouse code, Fastify request errors and ClickHouse errors a status and a code', () => {
  assert.deepEqual(errorAnswer(new ViewNotFoundError('v')).status, 404)
  assert.deepEqual(errorAnswer(new QueryError('bad')).status, 400)
  assert.deepEqual(errorAnswer(new RequestError('UNAUTHORIZED', 'x')), { status: 401, code: 'UNAUTHORIZED', message: 'x' })
  assert.deepEqual(errorAnswer(new FlowhouseError('KAFKA_ERROR', 'down', { retriable: true })).status, 503)
  assert.deepEqual(errorAnswer(Object.assign(new Error('querystring/limit must be integer'), { statusCode: 400, code: 'FST_ERR_VALIDATION' })), { status: 400, code: 'BAD_REQUEST', message: 'querystring/limit must be integer' })
  assert.deepEqual(errorAnswer(Object.assign(new Error('too big'), { statusCode: 413 }), 10), { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'body is larger than the limit of 10 bytes (FLOWHOUSE_INGEST_MAX_BYTES)' })
  assert.deepEqual(errorAnswer(new Error('Code: 62. DB::Exception: Syntax error: failed at position 1. (SYNTAX_ERROR) (version 26.1)')).status, 400)
  assert.deepEqual(errorAnswer(new Error('Code: 241. DB::Exception: Memory limit exceeded. (MEMORY_LIMIT_EXCEEDED)')).status, 503)
  assert.deepEqual(errorAnswer(new TypeError('x is undefined')), { status: 500, code: 'INTERNAL', message: 'x is undefined' })
})

test('through the app: 401 without or with an unknown key, 403 for the wrong scope, open routes stay open', async () => {
  const { app } = stubServer({ access: access() })
  const status = async (url: string, key?: string) => (await app.inject({ url, ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}) })).statusCode
  assert.deepEqual(await Promise.all([status('/api/pipelines'), status('/api/pipelines', 'fh_wrong'), status('/api/pipelines', KEYS.ingest), status('/api/pipelines', KEYS.read), status('/api/pipelines', KEYS.admin)]), [401, 401, 403, 200, 200])
  assert.deepEqual(await Promise.all([status('/health'), status('/ready'), status('/metrics')]), [200, 200, 200])
  const unauthorized = await app.inject({ url: '/api/pipelines' })
  assert.equal(unauthorized.headers['www-authenticate'], 'Bearer realm="flowhouse"')
  assert.deepEqual(unauthorized.json(), { error: 'an API key is required: send `Authorization: Bearer <key>`', code: 'UNAUTHORIZED' })
})

test('FLOWHOUSE_METRICS_AUTH=read puts /metrics behind a read key', async () => {
  const { app } = stubServer({ access: access({ metricsAuth: 'read' }) })
  const status = async (key?: string) => (await app.inject({ url: '/metrics', ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}) })).statusCode
  assert.deepEqual([await status(), await status(KEYS.ingest), await status(KEYS.read), await status(KEYS.admin)], [401, 403, 200, 200])
})

test('a text/plain or bodiless POST is refused with 415 before the route runs', async () => {
  const { app, calls } = stubServer()
  const plain = await app.inject({ method: 'POST', url: '/api/sql', headers: { 'content-type': 'text/plain' }, payload: '{"query":"SELECT 1"}' })
  const bodiless = await app.inject({ method: 'POST', url: '/ingest/events' })
  const form = await app.inject({ method: 'POST', url: '/ingest/events', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' })
  assert.deepEqual([plain.statusCode, bodiless.statusCode, form.statusCode], [415, 415, 415])
  assert.equal(plain.json().code, 'UNSUPPORTED_MEDIA_TYPE')
  assert.deepEqual(calls, [])
})

test('OPTIONS answers 204 with the methods of the path and no CORS header; an unknown path is 404', async () => {
  const { app } = stubServer({ access: access() })
  const preflight = await app.inject({ method: 'OPTIONS', url: '/api/sql', headers: { origin: 'https://attacker.example', 'access-control-request-method': 'POST' } })
  assert.equal(preflight.statusCode, 204)
  assert.equal(preflight.headers.allow, 'POST, OPTIONS')
  assert.equal(Object.keys(preflight.headers).filter((h) => h.startsWith('access-control-')).length, 0)
  assert.equal((await app.inject({ method: 'OPTIONS', url: '/health' })).headers.allow, 'GET, HEAD, OPTIONS')
  assert.equal((await app.inject({ method: 'OPTIONS', url: '/nowhere' })).statusCode, 404)
})

test('a request schema violation is a 400 naming the part and the field', async () => {
  const { app, calls } = stubServer()
  const res = await app.inject({ method: 'POST', url: '/api/sql', payload: { query: 'SELECT 1', extra: 1 } })
  assert.deepEqual(res.json(), { error: 'body must NOT have additional properties', code: 'BAD_REQUEST' })
  assert.deepEqual(calls, [])
})
