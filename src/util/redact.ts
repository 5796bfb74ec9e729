/**
 * Keeping credentials out of logs, errors and API answers: the field names pino redacts, URL
 * password stripping, and a registry of secret values replaced wherever they appear in text.
 */

/** What a redacted value is replaced with. */
export const REDACTED = '[Redacted]'

/**
 * Fields whose value pino replaces with REDACTED, at the top of a log line's object or one or
 * two levels down (pino `redact` paths, https://getpino.io/#/docs/redaction): passwords, SASL and
 * TLS key material, API keys, secrets, and the credential-bearing HTTP headers. Not `token`: the
 * insert deduplication token is logged on purpose and is no secret.
 */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'passphrase',
  '*.passphrase',
  '*.*.passphrase',
  'sasl',
  '*.sasl',
  'ssl.key',
  '*.ssl.key',
  'tls.key',
  '*.tls.key',
  'apiKey',
  '*.apiKey',
  'apiKeys',
  '*.apiKeys',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-clickhouse-key"]',
  '*.headers["x-api-key"]',
] as const

/** Secrets shorter than this are not registered: replacing them everywhere would garble text. */
export const MIN_SECRET_LENGTH = 4

const secrets = new Set<string>()
/** Longest first, so a secret that contains another is replaced whole. */
let ordered: string[] = []

/**
 * Registers a credential so that redactSecrets() (and so every log line) replaces it, also in its
 * JSON-escaped and URL-encoded forms. Config resolution calls it for every password and key it reads.
 * Values shorter than MIN_SECRET_LENGTH, and undefined, are ignored. Never throws.
 */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_LENGTH) return
  const forms = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]
  let added = false
  for (const form of forms) {
    if (form.length >= MIN_SECRET_LENGTH && !secrets.has(form)) {
      secrets.add(form)
      added = true
    }
  }
  if (added) ordered = [...secrets].sort((a, b) => b.length - a.length)
}

/**
 * `scheme://user:password@` in free text (also a URL that does not parse); the password stops at
 * whitespace, `@`, `/`, a quote or a backslash (the end of a JSON string).
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"'\\]*):([^\s@/"'\\]+)@/gi

/**
 * Replaces URL passwords (`http://u:p@h` → `http://u:[Redacted]@h`) and every registered secret
 * in `text` with REDACTED. Used as pino's `streamWrite` hook and for error messages. Never throws.
 */
export function redactSecrets(text: string): string {
  let out = text.includes('://') ? text.replace(URL_USERINFO, `$1:${REDACTED}@`) : text
  for (const secret of ordered) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED)
  }
  return out
}

/**
 * A URL fit to print. An http(s) URL that parses keeps its user name and loses its password
 * (`http://u:p@h:8123` → `http://u:[Redacted]@h:8123/`). Anything else (a URL that does not parse,
 * or lacks `scheme://`) loses everything before its last `@` except the scheme, since which part
 * is the password cannot be told (`http://u:p w@h:x` → `http://[Redacted]@h:x`). Never throws.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
      if (parsed.password === '') return redactSecrets(url)
      parsed.password = 'x'
      return redactSecrets(parsed.toString().replace(`:x@`, `:${REDACTED}@`))
    }
  } catch {
    // falls through to the blunt rule
  }
  const at = url.lastIndexOf('@')
  if (at < 0) return redactSecrets(url)
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? ''
  return redactSecrets(`${scheme}${REDACTED}${url.slice(at)}`)
}
