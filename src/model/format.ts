/**
 * The `format` option of an ingest pipeline: 'JSON_ARRAY' (the default) or
 * `{ schemaRegistry: { url, auth?, subject? } }` (types.ts IngestFormat), and its config checks.
 */
import { configError, describe, type Owner } from './config-error.ts'
import { INGEST_FORMAT } from './options.ts'
import type { IngestFormat, SchemaRegistryFormat } from './types.ts'

const REGISTRY_KEYS = ['url', 'auth', 'subject', 'tls']
const TLS_KEYS = ['ca', 'cert', 'key', 'rejectUnauthorized']
const FIX = "pass format: { schemaRegistry: { url: 'http://host:8081', auth?: { username, password }, subject?: 'name' } }"

/** The schema registry settings of a format, or undefined for JSON_ARRAY (or no format). */
export function registryOf(format: IngestFormat | undefined): SchemaRegistryFormat | undefined {
  return typeof format === 'object' && format !== null ? format.schemaRegistry : undefined
}

/**
 * Checks a pipeline's `format` (undefined is the default 'JSON_ARRAY').
 * Rules: a string (or any other non-object) must be "JSON_ARRAY"; an object has exactly the key
 * `schemaRegistry`, whose `url` is an http(s) URL, `auth` (optional) has string `username` and
 * `password`, `subject` (optional) is a non-empty string, `tls` (optional, https only) has PEM
 * text `ca`, `cert` and `key` (cert and key together) and a boolean `rejectUnauthorized`; a registry pipeline has no ingest
 * API (the HTTP ingest path writes JSON arrays to the topic, which a registry topic does not carry).
 * @throws ConfigError naming the pipeline, the option "format" and how to fix it.
 */
export function checkFormat(owner: Owner, format: unknown, ingestApi: unknown): void {
  if (format === undefined || format === INGEST_FORMAT) return
  if (typeof format !== 'object' || format === null || Array.isArray(format)) {
    throw configError(owner, { option: 'format' }, 'format', `must be "${INGEST_FORMAT}" (got ${describe(format)})`, `send each message as one JSON array of records and set format: '${INGEST_FORMAT}', or leave format out`)
  }
  const keys = Object.keys(format)
  if (keys.length !== 1 || keys[0] !== 'schemaRegistry') {
    throw configError(owner, { option: 'format' }, 'format', `must be "${INGEST_FORMAT}" or { schemaRegistry: { ... } } (got an object with ${keys.length === 0 ? 'no keys' : `keys ${keys.map((k) => `"${k}"`).join(', ')}`})`, FIX)
  }
  const registry: unknown = (format as { schemaRegistry: unknown }).schemaRegistry
  const fail = (problem: string, fix = FIX) => configError(owner, { option: 'format' }, 'format', problem, fix)
  if (typeof registry !== 'object' || registry === null || Array.isArray(registry)) throw fail(`schemaRegistry must be an object (got ${describe(registry)})`)
  const r = registry as Record<string, unknown>
  const unknown = Object.keys(r).filter((key) => !REGISTRY_KEYS.includes(key))
  if (unknown.length > 0) throw fail(`schemaRegistry has unknown option ${unknown.map((k) => `"${k}"`).join(', ')}`, 'use only url, auth, subject and tls')
  if (typeof r.url !== 'string' || !isHttpUrl(r.url)) {
    throw fail(`schemaRegistry.url must be an http:// or https:// URL (got ${describe(r.url)})`, "set url to the registry's Confluent REST API, e.g. 'http://127.0.0.1:8081'")
  }
  if (r.auth !== undefined) {
    const auth = r.auth as Record<string, unknown> | null
    if (typeof auth !== 'object' || auth === null || typeof auth.username !== 'string' || typeof auth.password !== 'string' || Object.keys(auth).some((k) => k !== 'username' && k !== 'password')) {
      throw fail('schemaRegistry.auth must be { username: string, password: string }', 'pass both as strings (read them from the environment), or leave auth out')
    }
  }
  if (r.subject !== undefined && (typeof r.subject !== 'string' || r.subject === '')) {
    throw fail(`schemaRegistry.subject must be a non-empty string (got ${describe(r.subject)})`, "name the subject the topic's schemas are registered under, or leave subject out")
  }
  if (r.tls !== undefined) {
    const tls = r.tls as Record<string, unknown> | null
    const fix = 'pass tls: { ca?: PEM text, cert?: PEM text, key?: PEM text, rejectUnauthorized?: boolean } (read the files with readFileSync)'
    if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) throw fail(`schemaRegistry.tls must be an object (got ${describe(tls)})`, fix)
    const bad = Object.keys(tls).find((k) => !TLS_KEYS.includes(k) || (k === 'rejectUnauthorized' ? typeof tls[k] !== 'boolean' : typeof tls[k] !== 'string'))
    if (bad !== undefined) throw fail(`schemaRegistry.tls.${bad} ${TLS_KEYS.includes(bad) ? `must be ${bad === 'rejectUnauthorized' ? 'true or false' : 'PEM text'} (got ${describe(tls[bad])})` : 'is not a TLS option'}`, fix)
    if ((tls.cert === undefined) !== (tls.key === undefined)) throw fail('schemaRegistry.tls needs both cert and key, or neither', fix)
    if (!(r.url as string).startsWith('https:')) throw fail(`schemaRegistry.tls needs an https:// url (got ${describe(r.url)})`, 'use the https:// URL of the registry, or leave tls out')
  }
  if (ingestApi === true) {
    throw configError(owner, { option: 'ingestApi' }, 'format', 'a schema registry pipeline has no ingest API (POST /ingest sends JSON arrays; this topic carries Confluent wire-format messages)', 'remove ingestApi: true, or use format JSON_ARRAY')
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}
