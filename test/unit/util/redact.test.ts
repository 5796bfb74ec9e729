import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { pino } from 'pino'
import { REDACTED, REDACTED_PATHS, redactSecrets, redactUrl, registerSecret } from '../../../src/util/redact.ts'

test('a URL keeps its user and host but loses its password', () => {
  assert.equal(redactUrl('http://fh:s3cr%40t@127.0.0.1:8123'), `http://fh:${REDACTED}@127.0.0.1:8123/`)
  assert.equal(redactUrl('https://127.0.0.1:8443'), 'https://127.0.0.1:8443')
})

test('a URL that does not parse loses everything before its last @ but the scheme', () => {
  assert.equal(redactUrl('http://default:pa ss@127.0.0.1:bad'), `http://${REDACTED}@127.0.0.1:bad`)
  assert.equal(redactUrl('default:hunter22@localhost:8123'), `${REDACTED}@localhost:8123`)
  assert.equal(redactUrl('localhost:8123'), 'localhost:8123')
})

test('free text loses the passwords of the URLs it holds, also inside JSON strings', () => {
  const line = JSON.stringify({ msg: 'cannot reach http://u:topsecret@h:1/x and kafka://a:b@c' })
  const out = redactSecrets(line)
  assert.ok(!out.includes('topsecret') && !out.includes(':b@'), out)
  assert.ok(out.includes(`http://u:${REDACTED}@h:1/x`), out)
  assert.equal(redactSecrets('see http://127.0.0.1:8123/ping'), 'see http://127.0.0.1:8123/ping')
})

test('a registered secret is replaced wherever it appears, raw, JSON-escaped and URL-encoded', () => {
  const secret = 'pa"ss/wörd-7731'
  registerSecret(secret)
  registerSecret('abc') // too short to register: would garble text
  const text = `raw ${secret} json ${JSON.stringify(secret)} url ${encodeURIComponent(secret)} abc`
  const out = redactSecrets(text)
  assert.equal(out, `raw ${REDACTED} json "${REDACTED}" url ${REDACTED} abc`)
})

test('pino with the redact list and the secret hook prints no credential of a log line', () => {
  registerSecret('kafka-sasl-secret-42')
  let written = ''
  const sink = new Writable({ write: (chunk, _enc, cb) => ((written += chunk), cb()) })
  const logger = pino({ redact: { paths: [...REDACTED_PATHS], censor: REDACTED }, hooks: { streamWrite: redactSecrets } }, sink)
  logger.info(
    {
      password: 'p1-visible?',
      clickhouse: { password: 'p2-visible?' },
      config: { kafka: { password: 'p3-visible?' }, sasl: { mechanism: 'plain', username: 'u', password: 'p4-visible?' } },
      req: { headers: { authorization: 'Bearer p5-visible?' } },
      error: { message: 'SASL failed for kafka-sasl-secret-42' },
    },
    'connecting to http://u:p6-visible?@h:8123',
  )
  for (const leaked of ['p1-', 'p2-', 'p3-', 'p4-', 'p5-', 'p6-', 'kafka-sasl-secret-42']) assert.ok(!written.includes(leaked), `${leaked} in ${written}`)
  assert.ok(written.includes('"username"') === false && written.includes(REDACTED), written)
})
