import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import { resolveConfig } from '../../src/config.ts'

test('configuration defaults: port 4000, ./pipelines, local broker, 100k rows / 8 MiB / 1 s batches', () => {
  const c = resolveConfig({})
  assert.equal(c.port, 4000)
  assert.equal(c.pipelinesDir, path.resolve('pipelines'))
  assert.deepEqual(c.brokers, ['127.0.0.1:9092'])
  assert.deepEqual(c.batch, { maxRows: 100_000, maxBytes: 8 * 1024 * 1024, flushIntervalMs: 250, inflightMessages: 2_048, inflightBytes: 4 * 1024 * 1024, insertRetryBaseMs: 250, insertRetryMaxMs: 30_000 })
})

test('environment variables override defaults and CLI flags override the environment', () => {
  const c = resolveConfig(
    { FLOWHOUSE_PORT: '4100', FLOWHOUSE_PIPELINES: '/srv/p', KAFKA_BROKERS: 'a:1, b:2', FLOWHOUSE_BATCH_MAX_ROWS: '500' },
    { port: 4200 },
  )
  assert.equal(c.port, 4200)
  assert.equal(c.pipelinesDir, '/srv/p')
  assert.deepEqual(c.brokers, ['a:1', 'b:2'])
  assert.equal(c.batch.maxRows, 500)
  assert.equal(c.batch.flushIntervalMs, 250)
})

test('a numeric variable that is not a positive integer fails with its name and value', () => {
  assert.throws(() => resolveConfig({ FLOWHOUSE_BATCH_FLUSH_MS: '-5' }), { message: 'environment FLOWHOUSE_BATCH_FLUSH_MS="-5": must be a positive integer (ms)' })
})

const FETCH = { fetchMaxBytesPerPartition: 2 * 1024 * 1024, fetchMaxBytes: 16 * 1024 * 1024 }

test('consumer group defaults: a 10 s session with a 3 s heartbeat, so a killed member is replaced within seconds', () => {
  assert.deepEqual(resolveConfig({}).group, { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 3_000, ...FETCH })
  assert.deepEqual(resolveConfig({ FLOWHOUSE_KAFKA_SESSION_TIMEOUT_MS: '30000', FLOWHOUSE_KAFKA_HEARTBEAT_INTERVAL_MS: '10000' }).group, { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 10_000, ...FETCH })
})

test('fetch sizes default to 2 MiB per partition and 16 MiB per response, and the environment sets them', () => {
  const c = resolveConfig({ FLOWHOUSE_KAFKA_FETCH_MAX_BYTES_PER_PARTITION: '1048576', FLOWHOUSE_KAFKA_FETCH_MAX_BYTES: '4194304' })
  assert.equal(c.group.fetchMaxBytesPerPartition, 1_048_576)
  assert.equal(c.group.fetchMaxBytes, 4_194_304)
  assert.throws(() => resolveConfig({ FLOWHOUSE_KAFKA_FETCH_MAX_BYTES: '0' }), { message: 'environment FLOWHOUSE_KAFKA_FETCH_MAX_BYTES="0": must be a positive integer (bytes)' })
})

test('a heartbeat interval that is not below the session timeout fails and says what to set', () => {
  assert.throws(() => resolveConfig({ FLOWHOUSE_KAFKA_SESSION_TIMEOUT_MS: '6000', FLOWHOUSE_KAFKA_HEARTBEAT_INTERVAL_MS: '6000' }), {
    message: 'FLOWHOUSE_KAFKA_HEARTBEAT_INTERVAL_MS (6000) must be lower than FLOWHOUSE_KAFKA_SESSION_TIMEOUT_MS (6000); set it to about a third of the session timeout (2000)',
  })
})

test('the configuration carries the ClickHouse connection: the embedded engine in the data folder unless CLICKHOUSE_URL is set', () => {
  const embedded = resolveConfig({ FLOWHOUSE_DATA_DIR: '/srv/data', FLOWHOUSE_SQL_SESSIONS: '2' }).clickhouse
  assert.equal(embedded.mode, 'embedded')
  assert.equal(embedded.chdbPath, '/srv/data/chdb')
  assert.equal(embedded.sandbox.sessions, 2)
  const server = resolveConfig({ CLICKHOUSE_URL: 'http://reader:s3cret@127.0.0.1:8123', CLICKHOUSE_DATABASE: 'analytics' }).clickhouse
  assert.deepEqual([server.mode, server.url, server.username, server.password, server.database], ['server', 'http://127.0.0.1:8123', 'reader', 's3cret', 'analytics'])
  assert.equal(resolveConfig({}, { dataDir: '/tmp/x' }).clickhouse.chdbPath, '/tmp/x/chdb')
  assert.throws(() => resolveConfig({ CLICKHOUSE_URL: 'ftp://h' }), { message: 'CLICKHOUSE_URL "ftp://h" must use http:// or https:// (the HTTP interface, port 8123 by default)' })
})
