import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Kafka, ProducerRecord } from 'kafkajs'
import { MESSAGES_PER_SEND, RecordProducer } from '../../../src/kafka/producer.ts'

/** A Kafka whose producer records each send (the module boundary: no broker). */
function stubKafka(fail?: (call: number) => boolean): { kafka: Kafka; sends: ProducerRecord[] } {
  const sends: ProducerRecord[] = []
  const producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    send: async (record: ProducerRecord) => {
      if (fail?.(sends.length)) throw new Error('broker refused')
      sends.push(record)
      return []
    },
  }
  return { kafka: { producer: () => producer } as unknown as Kafka, sends }
}

test('a send of many messages goes out in kafkajs sends of at most 1,000 messages, one after the other, in order, acks from all replicas', async () => {
  const { kafka, sends } = stubKafka()
  const messages = Array.from({ length: 2_345 }, (_, i) => ({ value: String(i) }))
  await new RecordProducer(kafka).send('t', messages)
  assert.equal(MESSAGES_PER_SEND, 1_000)
  assert.deepEqual(sends.map((s) => s.messages.length), [1_000, 1_000, 345])
  assert.deepEqual(sends.flatMap((s) => s.messages.map((m) => m.value)), messages.map((m) => m.value))
  assert.ok(sends.every((s) => s.topic === 't' && s.acks === -1))
})

test('a failed kafkajs send rejects the whole send and nothing after it goes out', async () => {
  const { kafka, sends } = stubKafka((call) => call === 1)
  await assert.rejects(new RecordProducer(kafka).send('t', Array.from({ length: 3_000 }, (_, i) => ({ value: String(i) }))), /broker refused/)
  assert.equal(sends.length, 1)
})

test('records become JSON_ARRAY messages of at most perMessage records', async () => {
  const { kafka, sends } = stubKafka()
  await new RecordProducer(kafka).sendRecords('t', ['{"a":1}', '{"a":2}', '{"a":3}'], 2)
  assert.deepEqual(sends[0]!.messages.map((m) => m.value), ['[{"a":1},{"a":2}]', '[{"a":3}]'])
})
