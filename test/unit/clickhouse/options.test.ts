import assert from 'node:assert/strict'
import path from 'node:path'
import { describe, it } from 'node:test'
import { resolveClickHouseOptions } from '../../../src/clickhouse/options.ts'

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
    })
  })

  it('reads the SQL sandbox limits from FLOWHOUSE_SQL_* and refuses a limit that is not a bounded positive integer', () => {
    const o = resolveClickHouseOptions({ env: { FLOWHOUSE_SQL_MAX_SECONDS: '5', FLOWHOUSE_SQL_MAX_RESULT_ROWS: '10', FLOWHOUSE_SQL_SESSIONS: '2' } })
    assert.deepEqual(o.sandbox, { maxSeconds: 5, maxMemoryBytes: 1_073_741_824, maxResultRows: 10, maxResultBytes: 67_108_864, sessions: 2, queue: 32 })
    assert.throws(() => resolveClickHouseOptions({ env: { FLOWHOUSE_SQL_MAX_SECONDS: '0' } }), /^ConfigError: FLOWHOUSE_SQL_MAX_SECONDS=0: must be an integer from 1 to 3600$/)
    assert.throws(() => resolveClickHouseOptions({ env: { FLOWHOUSE_SQL_SESSIONS: 'many' } }), /FLOWHOUSE_SQL_SESSIONS=many: must be an integer from 1 to 64/)
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
})
