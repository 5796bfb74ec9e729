import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, it } from 'node:test'
import { ENGINE_MEMORY_DEFAULTS, engineMemoryArgs, resolveClickHouseOptions } from '../../../src/clickhouse/options.ts'
import { redactSecrets } from '../../../src/util/redact.ts'

describe('resolveClickHouseOptions', () => {
  it('defaults to the embedded engine under ./.data/chdb', () => {
    assert.deepEqual(resolveClickHouseOptions({ env: {} }), {
      mode: 'embedded',
      url: undefined,
      username: 'default',
      password: '',
      database: 'default',
      chdbPath: path.resolve('.data/chdb'),
      requestTimeoutMs: 30_000,
      maxOpenConnections: 10,
      dedupWindowBlocks: 1_000,
      createDatabase: true,
      sandbox: { maxSeconds: 30, maxMemoryBytes: 1_073_741_824, maxResultRows: 100_000, maxResultBytes: 67_108_864, sessions: 4, queue: 32 },
      engineMemory: ENGINE_MEMORY_DEFAULTS,
      tls: undefined,
    })
  })

  it('sizes the embedded engine for a daemon: 1 GiB in all, 64 MiB mark and primary index caches, from FLOWHOUSE_CHDB_* when set', () => {
    assert.deepEqual(ENGINE_MEMORY_DEFAULTS, { maxMemoryBytes: 1_073_741_824, markCacheBytes: 67_108_864, primaryIndexCacheBytes: 67_108_864, indexMarkCacheBytes: 16_777_216, queryConditionCacheBytes: 16_777_216 })
    const o = resolveClickHouseOptions({ env: { FLOWHOUSE_CHDB_MAX_MEMORY_BYTES: '536870912', FLOWHOUSE_CHDB_MARK_CACHE_BYTES: '1048576' } })
    assert.equal(o.engineMemory.maxMemoryBytes, 536_870_912)
    assert.equal(o.engineMemory.markCacheBytes, 1_048_576)
    assert.equal(resolveClickHouseOptions({ env: { FLOWHOUSE_CHDB_MARK_CACHE_BYTES: '1' }, engineMemory: { markCacheBytes: 2 } }).engineMemory.markCacheBytes, 2)
    assert.deepEqual(engineMemoryArgs(o.engineMemory), [
      '--max_server_memory_usage=536870912',
      '--mark_cache_size=1048576',
      '--primary_index_cache_size=67108864',
      '--index_mark_cache_size=16777216',
      '--query_condition_cache_size=16777216',
    ])
    assert.throws(() => resolveClickHouseOptions({ env: { FLOWHOUSE_CHDB_MAX_MEMORY_BYTES: '1GB' } }), /^ConfigError: environment FLOWHOUSE_CHDB_MAX_MEMORY_BYTES="1GB": must be a positive integer \(bytes\)$/)
  })

  it('reads the SQL sandbox limits from FLOWHOUSE_SQL_* and refuses a limit that is not a bounded positive integer', () => {
    const o = resolveClickHouseOptions({ env: { FLOWHOUSE_SQL_MAX_SECONDS: '5', FLOWHOUSE_SQL_MAX_RESULT_ROWS: '10', FLOWHOUSE_SQL_SESSIONS: '2' } })
    assert.deepEqual(o.sandbox, { maxSeconds: 5, maxMemoryBytes: 1_073_741_824, maxResultRows: 10, maxResultBytes: 67_108_864, sessions: 2, queue: 32 })
    assert.throws(() => resolveClickHouseOptions({ env: { FLOWHOUSE_SQL_MAX_SECONDS: '0' } }), /^ConfigError: environment FLOWHOUSE_SQL_MAX_SECONDS="0": must be an integer from 1 to 3600 \(seconds\)$/)
    assert.throws(() => resolveClickHouseOptions({ env: { FLOWHOUSE_SQL_SESSIONS: 'many' } }), /environment FLOWHOUSE_SQL_SESSIONS="many": must be an integer from 1 to 64/)
  })

  it('uses the server when CLICKHOUSE_URL is set, with user, password and database from the environment', () => {
    const o = resolveClickHouseOptions({
      env: { CLICKHOUSE_URL: 'http://127.0.0.1:8123', CLICKHOUSE_USER: 'fh', CLICKHOUSE_PASSWORD: 's3cret', CLICKHOUSE_DATABASE: 'flowhouse' },
    })
    assert.equal(o.mode, 'server')
    assert.equal(o.url, 'http://127.0.0.1:8123')
    assert.equal(o.username, 'fh')
    assert.equal(o.password, 's3cret')
    assert.equal(o.database, 'flowhouse')
  })

  it('keeps the embedded data in <FLOWHOUSE_DATA_DIR>/chdb; explicit options win over the environment', () => {
    assert.equal(resolveClickHouseOptions({ env: { FLOWHOUSE_DATA_DIR: '/srv/fh' } }).chdbPath, '/srv/fh/chdb')
    assert.equal(resolveClickHouseOptions({ dataDir: '/tmp/x', env: { FLOWHOUSE_DATA_DIR: '/srv/fh' } }).chdbPath, '/tmp/x/chdb')
    assert.equal(resolveClickHouseOptions({ chdbPath: ':memory:', env: {} }).chdbPath, ':memory:')
  })

  it('says how to fix a bad URL, database or number', () => {
    assert.throws(() => resolveClickHouseOptions({ env: { CLICKHOUSE_URL: 'localhost:8123' } }), {
      name: 'ConfigError',
      message: 'CLICKHOUSE_URL "localhost:8123" must use http:// or https:// (the HTTP interface, port 8123 by default)',
    })
    assert.throws(() => resolveClickHouseOptions({ env: { CLICKHOUSE_DATABASE: 'my db' } }), {
      message: 'database name "my db" is not a valid ClickHouse identifier: use letters, digits, "_" and "-", starting with a letter or "_" (at most 128 characters)',
    })
    assert.throws(() => resolveClickHouseOptions({ requestTimeoutMs: 0, env: {} }), { message: 'clickhouse option requestTimeoutMs=0: must be a positive integer' })
  })

  it('takes user and password out of the URL, so the resolved URL is safe to print', () => {
    const o = resolveClickHouseOptions({ env: { CLICKHOUSE_URL: 'http://fh:p%40ss-from-url@127.0.0.1:8123', CLICKHOUSE_USER: 'other', CLICKHOUSE_PASSWORD: 'env-pw' } })
    assert.equal(o.url, 'http://127.0.0.1:8123')
    assert.equal(o.username, 'fh')
    assert.equal(o.password, 'p@ss-from-url')
    assert.equal(redactSecrets('auth p@ss-from-url failed'), 'auth [Redacted] failed')
    assert.equal(resolveClickHouseOptions({ password: 'explicit', env: { CLICKHOUSE_URL: 'http://fh:url-pw@h:1' } }).password, 'explicit')
  })

  it('a malformed URL fails without printing its password', () => {
    for (const url of ['http://default:Hunter2-malformed@127.0.0.1:bad', 'default:Hunter2-noscheme@localhost:8123', 'ftp://u:Hunter2-ftp@h:21']) {
      assert.throws(
        () => resolveClickHouseOptions({ env: { CLICKHOUSE_URL: url } }),
        (error: Error) => error.name === 'ConfigError' && error.message.startsWith('CLICKHOUSE_URL "') && !error.message.includes('Hunter2') && error.message.includes('[Redacted]@'),
      )
    }
    assert.throws(() => resolveClickHouseOptions({ env: { CLICKHOUSE_URL: 'http://default:Hunter2-malformed@127.0.0.1:bad' } }), {
      message: 'CLICKHOUSE_URL "http://[Redacted]@127.0.0.1:bad" is not a URL: use e.g. http://127.0.0.1:8123, or unset it for the embedded engine',
    })
  })

  it('reads the CA, client certificate and key of an https URL into the client tls option', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fh-ch-tls-'))
    for (const name of ['ca.pem', 'client.pem', 'client.key']) writeFileSync(path.join(dir, name), name.toUpperCase())
    const env = { CLICKHOUSE_URL: 'https://127.0.0.1:8443', CLICKHOUSE_TLS_CA_FILE: path.join(dir, 'ca.pem') }
    assert.deepEqual(resolveClickHouseOptions({ env }).tls, { ca_cert: Buffer.from('CA.PEM') })
    const mutual = resolveClickHouseOptions({ env: { ...env, CLICKHOUSE_TLS_CERT_FILE: path.join(dir, 'client.pem'), CLICKHOUSE_TLS_KEY_FILE: path.join(dir, 'client.key') } }).tls
    assert.deepEqual(mutual, { ca_cert: Buffer.from('CA.PEM'), cert: Buffer.from('CLIENT.PEM'), key: Buffer.from('CLIENT.KEY') })
    assert.equal(resolveClickHouseOptions({ env: { CLICKHOUSE_URL: 'https://127.0.0.1:8443' } }).tls, undefined)
  })

  it('TLS files for a plain http URL, half a client certificate, or no CA fail, naming the variable', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ CLICKHOUSE_URL: 'http://127.0.0.1:8123', CLICKHOUSE_TLS_CA_FILE: '/x' }, 'CLICKHOUSE_TLS_* files are set but CLICKHOUSE_URL is not an https:// URL: use https://host:8443, or unset the TLS variables'],
      [{ CLICKHOUSE_TLS_CA_FILE: '/x' }, 'CLICKHOUSE_TLS_* files are set but CLICKHOUSE_URL is not an https:// URL: use https://host:8443, or unset the TLS variables'],
      [{ CLICKHOUSE_URL: 'https://h:8443', CLICKHOUSE_TLS_CA_FILE: '/x', CLICKHOUSE_TLS_KEY_FILE: '/k' }, 'CLICKHOUSE_TLS_CERT_FILE and CLICKHOUSE_TLS_KEY_FILE go together: set both for a client certificate, or neither'],
      [{ CLICKHOUSE_URL: 'https://h:8443', CLICKHOUSE_TLS_CERT_FILE: '/c', CLICKHOUSE_TLS_KEY_FILE: '/k' }, 'a ClickHouse client certificate needs CLICKHOUSE_TLS_CA_FILE too: the PEM of the CA that signed the server certificate'],
      [{ CLICKHOUSE_URL: 'https://h:8443', CLICKHOUSE_TLS_CA_FILE: '/nonexistent/ca.pem' }, 'CLICKHOUSE_TLS_CA_FILE="/nonexistent/ca.pem" cannot be read (ENOENT): give the path of a readable PEM file'],
    ]
    for (const [env, message] of cases) assert.throws(() => resolveClickHouseOptions({ env }), { name: 'ConfigError', message })
  })
})
