import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ClickHouseError, FlowhouseError } from '../../../src/errors.ts'
import { errorFields, prettyLogs } from '../../../src/util/log.ts'

test('logs are human-readable on a terminal and JSON otherwise, unless FLOWHOUSE_LOG_FORMAT says', () => {
  assert.equal(prettyLogs({}, true), true)
  assert.equal(prettyLogs({}, false), false)
  assert.equal(prettyLogs({ FLOWHOUSE_LOG_FORMAT: 'json' }, true), false)
  assert.equal(prettyLogs({ FLOWHOUSE_LOG_FORMAT: 'pretty' }, false), true)
})

test('an error logged as err keeps its message as error and, for a FlowhouseError, its code, retriable flag and context', () => {
  const ch = new ClickHouseError('ClickHouse error 202: too many queries', { retriable: true, chCode: 202, context: { table: 'flights' } })
  assert.deepEqual(errorFields({ table: 'flights', err: ch }), { table: 'flights', error: 'ClickHouse error 202: too many queries', code: 'CLICKHOUSE_ERROR', retriable: true, context: { table: 'flights' } })
  assert.deepEqual(errorFields({ err: new FlowhouseError('BAD_REQUEST', 'no') }), { error: 'no', code: 'BAD_REQUEST', retriable: false })
  assert.deepEqual(errorFields({ task: 'lag', err: new Error('socket hang up') }), { task: 'lag', error: 'socket hang up' })
  assert.deepEqual(errorFields({ err: 'plain text' }), { error: 'plain text' })
  const other = { partition: 1 }
  assert.equal(errorFields(other), other, 'objects without err pass as they are')
})
