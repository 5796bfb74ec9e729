/**
 * Access control of the HTTP port: scoped API keys, the loopback rule without keys, the Host
 * allowlist (DNS rebinding) and JSON-only bodies on state-changing requests.
 *
 * Every route declares the scope it needs in its `config.scope`:
 *
 * | scope | routes |
 * |---|---|
 * | `open` | `/health`, `/ready`, `/metrics` (unless FLOWHOUSE_METRICS_AUTH=read), `OPTIONS` |
 * | `ingest` | `POST /ingest/:pipeline` |
 * | `read` | GET routes, `POST /api/sql`, `POST /api/mv/:name/query`, `/openapi.json` |
 * | `admin` | everything that changes state; a route that declares nothing needs `admin` |
 *
 * `admin` keys may call every route; `read` and `ingest` keys only their own.
 * Checks run in the `onRequest` hook, before the body is read, in this order:
 * 1. without keys, the Host header must name a loopback host or one of FLOWHOUSE_ALLOWED_HOSTS (421);
 * 2. with keys, `Authorization: Bearer <key>` must carry a known key (401) of a scope that covers the route (403);
 *    keys are compared as SHA-256 digests with `crypto.timingSafeEqual`, every configured key each time;
 * 3. POST, PUT and PATCH need `Content-Type: application/json` (415), so that no request a browser
 *    may send cross-site without a preflight (form posts, `text/plain`, bodiless `no-cors` fetches) changes state.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AccessOptions, ApiKeyEntry, Scope } from '../config.ts'
import { ConfigError, RequestError } from '../errors.ts'
import { metrics } from '../metrics/metrics.ts'

/** The scope a route needs; `open` routes need no key. */
export type RouteScope = Scope | 'open'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scope a caller's key must cover (src/http/auth.ts). @default 'admin' */
    scope?: RouteScope
  }
}

/** SHA-256 hex of a key, the form configured in FLOWHOUSE_API_KEYS. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/**
 * A new random API key (`fh_` + 32 random bytes, base64url) and the entry that configures it.
 * @returns `{ key, entry }` where entry is `<scope>:<sha256 hex of key>`.
 */
export function createApiKey(scope: Scope): { key: string; entry: string } {
  const key = `fh_${randomBytes(32).toString('base64url')}`
  return { key, entry: `${scope}:${hashApiKey(key)}` }
}

/** True when a key of scope `held` may call a route needing `needed`. */
export function covers(held: Scope, needed: RouteScope): boolean {
  return needed === 'open' || held === needed || held === 'admin'
}

/**
 * The scopes of the key in an `Authorization` header.
 * @returns the matching keys' scopes (empty for an unknown key), or `undefined` when the header
 *   is missing or not `Bearer <key>`. Compares against every configured key, in constant time each.
 */
export function scopesOf(keys: readonly ApiKeyEntry[], authorization: string | undefined): Scope[] | undefined {
  const m = /^Bearer[ ]+(\S+)[ ]*$/i.exec(authorization ?? '')
  if (!m) return undefined
  const digest = createHash('sha256').update(m[1]!, 'utf8').digest()
  const scopes: Scope[] = []
  for (const k of keys) if (timingSafeEqual(digest, k.sha256)) scopes.push(k.scope)
  return scopes
}

/** Loopback host names: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '')
  if (h === 'localhost' || h === '::1') return true
  return isIP(h) === 4 && h.startsWith('127.')
}

/** The host name of a Host header (`name:port`, `[v6]:port`), lower-case, without the port. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase()
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1)
  const colon = h.lastIndexOf(':')
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h
}

/**
 * The rule for the listen address: without API keys the daemon listens on loopback only.
 * @throws ConfigError (the exact message is part of the contract) when `host` is not loopback and no key is configured.
 */
export function checkListenAddress(host: string, access: AccessOptions): void {
  if (access.apiKeys.length > 0 || isLoopbackHost(host)) return
  throw new ConfigError(
    `refusing to listen on ${host}: no API keys are configured, and without keys flowhouse only listens on a loopback address (127.0.0.1, ::1, localhost). ` +
      'Create a key with `flowhouse keys create --scope admin` and add the printed entry to FLOWHOUSE_API_KEYS (or to the file named by FLOWHOUSE_API_KEYS_FILE), or set FLOWHOUSE_HOST=127.0.0.1',
    { field: 'FLOWHOUSE_HOST' },
  )
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH'])

function mediaType(req: FastifyRequest): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
}

function scopeOf(req: FastifyRequest, access: AccessOptions): RouteScope {
  if (req.method === 'OPTIONS') return 'open'
  // An unknown path needs any key, so that a caller without one learns nothing about the routes.
  if (req.is404) return 'read'
  const scope = req.routeOptions.config.scope ?? 'admin'
  return req.routeOptions.url === '/metrics' && access.metricsAuth === 'read' ? 'read' : scope
}

/**
 * Installs the checks on every route of `app` (call before registering routes).
 * Refusals are thrown as RequestError and answered by the error handler (src/http/errors.ts)
 * as `{ error, code }`; each is counted in flowhouse_http_refused_total.
 */
export function registerAuth(app: FastifyInstance, access: AccessOptions): void {
  const refuse = (reason: string, error: RequestError): never => {
    metrics.httpRefused.inc({ reason })
    throw error
  }
  app.addHook('onRequest', async (req, reply) => {
    if (access.apiKeys.length === 0) {
      const host = hostName(req.headers.host ?? '')
      if (!isLoopbackHost(host) && !access.allowedHosts.includes(host)) {
        refuse('host', new RequestError('HOST_NOT_ALLOWED', `Host "${host}" is not served: without API keys only loopback names (localhost, 127.0.0.1, [::1]) and FLOWHOUSE_ALLOWED_HOSTS are accepted`))
      }
    } else {
      const needed = scopeOf(req, access)
      if (needed !== 'open') {
        const scopes = scopesOf(access.apiKeys, req.headers.authorization)
        if (!scopes || scopes.length === 0) {
          void reply.header('www-authenticate', 'Bearer realm="flowhouse"')
          refuse(scopes ? 'unknown_key' : 'missing_key', new RequestError('UNAUTHORIZED', scopes ? 'unknown API key' : 'an API key is required: send `Authorization: Bearer <key>`'))
        }
        if (!scopes!.some((s) => covers(s, needed))) refuse('scope', new RequestError('FORBIDDEN', `this route needs a key of scope ${needed}${needed === 'admin' ? '' : ' or admin'}; the key has scope ${scopes!.join(', ')}`))
      }
    }
    if (BODY_METHODS.has(req.method) || (req.method === 'DELETE' && req.headers['content-type'] !== undefined)) {
      if (mediaType(req) !== 'application/json') {
        refuse('media_type', new RequestError('UNSUPPORTED_MEDIA_TYPE', `${req.method} requests must send Content-Type: application/json${req.headers['content-type'] ? ` (got "${req.headers['content-type']}")` : ''}, with a JSON body ({} when there is nothing to send)`))
      }
    }
  })
}
