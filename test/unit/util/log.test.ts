import assert from 'node:assert/strict'
import { test } from 'node:test'
import { prettyLogs } from '../../../src/util/log.ts'

test('logs are human-readable on a terminal and JSON otherwise, unless FLOWHOUSE_LOG_FORMAT says', () => {
  assert.equal(prettyLogs({}, true), true)
  assert.equal(prettyLogs({}, false), false)
  assert.equal(prettyLogs({ FLOWHOUSE_LOG_FORMAT: 'json' }, true), false)
  assert.equal(prettyLogs({ FLOWHOUSE_LOG_FORMAT: 'pretty' }, false), true)
})
