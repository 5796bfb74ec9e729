import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkedInt } from '../../../src/util/env.ts'
import { ENVIRONMENT, readEnvironment, setting, variableSchema, type Variable } from '../../../src/util/environment.ts'

const refused = (env: NodeJS.ProcessEnv, name: Variable, message: string) =>
  assert.throws(() => setting(name, env), (e: unknown) => e instanceof Error && e.name === 'ConfigError' && e.message === message && (e as unknown as { context: { field: string } }).context.field === name)

test('an integer variable: its schema default when unset or empty, the value within its bounds, else a ConfigError naming it', () => {
  assert.equal(setting('FLOWHOUSE_BATCH_MAX_ROWS', {}), 100_000)
  assert.equal(setting('FLOWHOUSE_BATCH_MAX_ROWS', { FLOWHOUSE_BATCH_MAX_ROWS: '' }), 100_000)
  assert.equal(setting('FLOWHOUSE_BATCH_MAX_ROWS', { FLOWHOUSE_BATCH_MAX_ROWS: '12' }), 12)
  assert.equal(setting('FLOWHOUSE_RELOAD_INTERVAL_MS', { FLOWHOUSE_RELOAD_INTERVAL_MS: '0' }), 0)
  refused({ FLOWHOUSE_PORT: '0' }, 'FLOWHOUSE_PORT', 'environment FLOWHOUSE_PORT="0": must be a positive integer')
  refused({ FLOWHOUSE_BATCH_MAX_BYTES: '1.5' }, 'FLOWHOUSE_BATCH_MAX_BYTES', 'environment FLOWHOUSE_BATCH_MAX_BYTES="1.5": must be a positive integer (bytes)')
  refused({ FLOWHOUSE_MV_STATUS_INTERVAL_MS: '50' }, 'FLOWHOUSE_MV_STATUS_INTERVAL_MS', 'environment FLOWHOUSE_MV_STATUS_INTERVAL_MS="50": must be an integer ≥ 100 (ms)')
  refused({ FLOWHOUSE_SQL_SESSIONS: 'many' }, 'FLOWHOUSE_SQL_SESSIONS', 'environment FLOWHOUSE_SQL_SESSIONS="many": must be an integer from 1 to 64')
  refused({ FLOWHOUSE_MAX_DEPTH: '5000' }, 'FLOWHOUSE_MAX_DEPTH', 'environment FLOWHOUSE_MAX_DEPTH="5000": must be an integer from 1 to 1000')
  assert.throws(() => checkedInt('clickhouse option requestTimeoutMs', 0, 0, {}, 'requestTimeoutMs'), (e: unknown) => e instanceof Error && e.message === 'clickhouse option requestTimeoutMs=0: must be a positive integer' && (e as unknown as { context: { field: string } }).context.field === 'requestTimeoutMs')
})

test('flags take true, false, 1 or 0 in any case; lists take one of their values; strings are kept as given', () => {
  assert.equal(setting('KAFKA_SSL', {}), undefined)
  assert.equal(setting('KAFKA_SSL', { KAFKA_SSL: ' TRUE ' }), true)
  assert.equal(setting('KAFKA_SSL', { KAFKA_SSL: '0' }), false)
  assert.equal(setting('KAFKA_SSL_REJECT_UNAUTHORIZED', {}), true)
  refused({ KAFKA_SSL: 'yes' }, 'KAFKA_SSL', 'environment KAFKA_SSL="yes": must be true or false')
  assert.equal(setting('FLOWHOUSE_LOG_LEVEL', {}), 'info')
  assert.equal(setting('FLOWHOUSE_LOG_LEVEL', { FLOWHOUSE_LOG_LEVEL: 'warn' }), 'warn')
  refused({ FLOWHOUSE_LOG_LEVEL: 'loud' }, 'FLOWHOUSE_LOG_LEVEL', 'environment FLOWHOUSE_LOG_LEVEL="loud": must be fatal, error, warn, info, debug, trace or silent')
  refused({ FLOWHOUSE_METRICS_AUTH: 'admin' }, 'FLOWHOUSE_METRICS_AUTH', 'environment FLOWHOUSE_METRICS_AUTH="admin": must be none or read')
  assert.equal(setting('CLICKHOUSE_PASSWORD', {}), '')
  assert.equal(setting('CLICKHOUSE_URL', {}), undefined)
  assert.equal(setting('CLICKHOUSE_URL', { CLICKHOUSE_URL: 'http://h:8123' }), 'http://h:8123')
})

test('readEnvironment reads every variable of the schema: defaults filled, values checked, unknown names ignored', () => {
  const names = Object.keys(ENVIRONMENT.properties) as Variable[]
  const e = readEnvironment({ FLOWHOUSE_PORT: '4100', FLOWHOUSE_NOT_A_SETTING: 'x' })
  assert.equal(e.FLOWHOUSE_PORT, 4100)
  assert.equal('FLOWHOUSE_NOT_A_SETTING' in e, false)
  for (const name of names) {
    const schema = variableSchema(name)
    assert.deepEqual((e as Record<string, unknown>)[name], name === 'FLOWHOUSE_PORT' ? 4100 : schema.default, name)
  }
  assert.throws(() => readEnvironment({ FLOWHOUSE_SQL_QUEUE: '-1' }), { message: 'environment FLOWHOUSE_SQL_QUEUE="-1": must be an integer from 1 to 10000' })
})

test('every variable is documented: a description, and a unit on every integer counting time or bytes', () => {
  for (const name of Object.keys(ENVIRONMENT.properties) as Variable[]) {
    const schema = variableSchema(name)
    assert.ok(typeof schema.description === 'string' && schema.description.length > 0, name)
    if (schema.type === 'integer' && /_(MS|BYTES|SECONDS)$/.test(name)) assert.ok(schema.unit, `${name} has no unit`)
  }
})
