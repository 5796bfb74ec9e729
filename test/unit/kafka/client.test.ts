import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isTransientKafkaLog } from '../../../src/kafka/client.ts'

test('kafkajs warm-up errors (group coordinator not available) are transient; others are not', () => {
  assert.equal(isTransientKafkaLog({ message: 'Response GroupCoordinator(key: 10, version: 2)', error: 'The group coordinator is not available' }), true)
  assert.equal(isTransientKafkaLog({ message: 'Response Produce(key: 0, version: 7)', error: 'This server does not host this topic-partition' }), false)
})
