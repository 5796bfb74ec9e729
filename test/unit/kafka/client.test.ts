import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isTransientKafkaLog } from '../../../src/kafka/client.ts'

test('kafkajs warm-up errors (group coordinator not available) are transient; others are not', () => {
  assert.equal(isTransientKafkaLog({ message: 'Response GroupCoordinator(key: 10, version: 2)', error: 'The group coordinator is not available' }), true)
  assert.equal(isTransientKafkaLog({ message: 'Response Produce(key: 0, version: 7)', error: 'This server does not host this topic-partition' }), false)
})

test('logs are human-readable on a terminal and JSON otherwise, unless FLOWHOUSE_LOG_FORMAT says', async () => {
  const { prettyLogs } = await import('../../../src/util/log.ts')
  assert.equal(prettyLogs({}, true), true)
  assert.equal(prettyLogs({}, false), false)
  assert.equal(prettyLogs({ FLOWHOUSE_LOG_FORMAT: 'json' }, true), false)
  assert.equal(prettyLogs({ FLOWHOUSE_LOG_FORMAT: 'pretty' }, false), true)
})
