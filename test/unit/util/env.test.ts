import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkedInt, intEnv } from '../../../src/util/env.ts'

test('an integer variable: the fallback when unset or empty, the value within its bounds, else a ConfigError naming it', () => {
  assert.equal(intEnv({}, 'FLOWHOUSE_X', 7), 7)
  assert.equal(intEnv({ FLOWHOUSE_X: '' }, 'FLOWHOUSE_X', 7), 7)
  assert.equal(intEnv({ FLOWHOUSE_X: '12' }, 'FLOWHOUSE_X', 7), 12)
  assert.equal(intEnv({ FLOWHOUSE_X: '0' }, 'FLOWHOUSE_X', 7, { min: 0 }), 0)
  const refused = (env: NodeJS.ProcessEnv, bounds: Parameters<typeof intEnv>[3], message: string) =>
    assert.throws(() => intEnv(env, 'FLOWHOUSE_X', 7, bounds), { name: 'ConfigError', message })
  refused({ FLOWHOUSE_X: '0' }, {}, 'environment FLOWHOUSE_X="0": must be a positive integer')
  refused({ FLOWHOUSE_X: '1.5' }, { unit: 'bytes' }, 'environment FLOWHOUSE_X="1.5": must be a positive integer (bytes)')
  refused({ FLOWHOUSE_X: '50' }, { min: 100 }, 'environment FLOWHOUSE_X="50": must be an integer ≥ 100')
  refused({ FLOWHOUSE_X: 'many' }, { max: 64 }, 'environment FLOWHOUSE_X="many": must be an integer from 1 to 64')
  assert.throws(() => checkedInt('clickhouse option requestTimeoutMs', 0, 0, {}, 'requestTimeoutMs'), (e: unknown) => e instanceof Error && e.message === 'clickhouse option requestTimeoutMs=0: must be a positive integer' && (e as unknown as { context: { field: string } }).context.field === 'requestTimeoutMs')
})
