import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { resolveConfig } from '../../../src/config.ts'
import { kafkaSecurityConfig } from '../../../src/kafka/client.ts'
import { describeKafkaSecurity, resolveKafkaSecurity } from '../../../src/kafka/options.ts'
import { redactSecrets } from '../../../src/util/redact.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'fh-kafka-options-'))
const file = (name: string, text: string) => {
  const p = path.join(dir, name)
  writeFileSync(p, text)
  return p
}
const CA = file('ca.pem', '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n')
const CERT = file('client.pem', 'CERT')
const KEY = file('client.key', 'KEY')

test('without TLS or SASL variables the clients speak PLAINTEXT and the kafkajs config has neither field', () => {
  const security = resolveKafkaSecurity({})
  assert.deepEqual(security, { ssl: undefined, sasl: undefined })
  assert.deepEqual(kafkaSecurityConfig(security), {})
  assert.equal(describeKafkaSecurity(security), 'PLAINTEXT')
  assert.deepEqual(resolveConfig({}).kafkaSecurity, { ssl: undefined, sasl: undefined })
})

test('KAFKA_SSL=true alone trusts the system CAs; a CA file turns TLS on and is read at resolution', () => {
  assert.deepEqual(resolveKafkaSecurity({ KAFKA_SSL: 'true' }).ssl, { rejectUnauthorized: true })
  const ssl = resolveKafkaSecurity({ KAFKA_SSL_CA_FILE: CA }).ssl!
  assert.equal(ssl.ca!.toString(), '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n')
  assert.equal(ssl.rejectUnauthorized, true)
})

test('a client certificate, its key and the key passphrase come from their files and variable', () => {
  const ssl = resolveKafkaSecurity({ KAFKA_SSL_CA_FILE: CA, KAFKA_SSL_CERT_FILE: CERT, KAFKA_SSL_KEY_FILE: KEY, KAFKA_SSL_KEY_PASSWORD: 'key-pass-99' }).ssl!
  assert.equal(ssl.cert!.toString(), 'CERT')
  assert.equal(ssl.key!.toString(), 'KEY')
  assert.equal(ssl.passphrase, 'key-pass-99')
  assert.equal(redactSecrets('passphrase key-pass-99'), 'passphrase [Redacted]')
})

test('SASL mechanisms PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 in any case, with the password inline or from a file', () => {
  for (const [raw, mechanism] of [['PLAIN', 'plain'], ['scram-sha-256', 'scram-sha-256'], ['SCRAM-SHA-512', 'scram-sha-512']] as const) {
    const security = resolveKafkaSecurity({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: raw, KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'inline-pw-1' })
    assert.deepEqual(security.sasl, { mechanism, username: 'svc', password: 'inline-pw-1' })
    assert.deepEqual(kafkaSecurityConfig(security), { ssl: { rejectUnauthorized: true }, sasl: { mechanism, username: 'svc', password: 'inline-pw-1' } })
  }
  const fromFile = resolveKafkaSecurity({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD_FILE: file('pw', 'file-pw-2\n') })
  assert.equal(fromFile.sasl!.password, 'file-pw-2')
  assert.equal(describeKafkaSecurity(fromFile), 'SASL_PLAINTEXT (PLAIN)')
  assert.equal(redactSecrets('a file-pw-2 b inline-pw-1'), 'a [Redacted] b [Redacted]')
})

test('incomplete or contradictory variables fail at start, naming the variable and the fix', () => {
  const cases: Array<[NodeJS.ProcessEnv, string]> = [
    [{ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, 'KAFKA_SASL_MECHANISM="gssapi" is not supported: use one of plain, scram-sha-256, scram-sha-512'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'p' }, 'KAFKA_SASL_MECHANISM=plain needs KAFKA_SASL_USERNAME'],
    [{ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' }, 'KAFKA_SASL_MECHANISM=scram-sha-512 needs KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p', KAFKA_SASL_PASSWORD_FILE: KEY }, 'set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both'],
    [{ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, 'KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD are set without KAFKA_SASL_MECHANISM: set it to one of plain, scram-sha-256, scram-sha-512'],
    [{ KAFKA_SSL_CERT_FILE: CERT }, 'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together: set both for a client certificate, or neither'],
    [{ KAFKA_SSL: 'yes' }, 'environment KAFKA_SSL="yes": must be true or false'],
    [{ KAFKA_SSL: 'false', KAFKA_SSL_CERT_FILE: CERT, KAFKA_SSL_KEY_FILE: KEY }, 'KAFKA_SSL=false but a client certificate is set: remove KAFKA_SSL=false or the KAFKA_SSL_*_FILE variables'],
    [{ KAFKA_SSL_CA_FILE: path.join(dir, 'missing.pem') }, `KAFKA_SSL_CA_FILE="${path.join(dir, 'missing.pem')}" cannot be read (ENOENT): give the path of a readable PEM or text file`],
  ]
  for (const [env, message] of cases) {
    assert.throws(() => resolveKafkaSecurity(env), { name: 'ConfigError', message })
    assert.throws(() => resolveConfig(env), { name: 'ConfigError', message })
  }
})
