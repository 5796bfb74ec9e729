/** Kafka helpers of the replay integration tests: random topics on the local broker and a bounded read-back. */
import { randomUUID } from 'node:crypto'
import { Kafka, logLevel } from 'kafkajs'

export const BROKERS = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',')
const kafka = new Kafka({ clientId: 'replay-test', brokers: BROKERS, logLevel: logLevel.NOTHING })

/** Creates a fresh topic `replay-test-<random>` with `partitions` partitions; returns its name. */
export async function createTopic(partitions: number): Promise<string> {
  const topic = `replay-test-${randomUUID().slice(0, 8)}`
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
  return topic
}

export async function deleteTopic(topic: string): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.deleteTopics({ topics: [topic] })
  } finally {
    await admin.disconnect()
  }
}

/** One message read back. */
export interface ReadMessage {
  partition: number
  offset: number
  value: string
}

/** Messages per partition according to the broker's high watermarks. */
export async function messageCount(topic: string): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)
  } finally {
    await admin.disconnect()
  }
}

/**
 * Reads every message of `topic` from the beginning with a fresh consumer group until `expected`
 * messages have arrived (the count comes from the high watermarks), or throws after `timeoutMs`.
 */
export async function readAllMessages(topic: string, timeoutMs = 60_000): Promise<ReadMessage[]> {
  const expected = await messageCount(topic)
  const consumer = kafka.consumer({ groupId: `replay-test-${randomUUID()}`, maxBytes: 64 << 20 })
  const messages: ReadMessage[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    let done: () => void = () => undefined
    const all = new Promise<void>((resolve) => (done = resolve))
    if (expected === 0) done()
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        messages.push({ partition, offset: Number(message.offset), value: message.value?.toString('utf8') ?? '' })
        if (messages.length >= expected) done()
      },
    })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`read ${messages.length} of ${expected} messages of ${topic} in ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await Promise.race([all, timeout])
    } finally {
      clearTimeout(timer)
    }
  } finally {
    await consumer.disconnect()
  }
  return messages
}
