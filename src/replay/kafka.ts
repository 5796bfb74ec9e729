/** The replay stage's Kafka client: a kafkajs client logging through pino, and the topic check. */
import { Kafka, logLevel, type Admin, type LogEntry } from 'kafkajs'
import { FlowhouseError, messageOf } from '../errors.ts'
import { kafkaSecurityConfig } from '../kafka/client.ts'
import { PLAINTEXT, type KafkaSecurity } from '../kafka/options.ts'
import { stageLog } from '../util/log.ts'

const levelNames: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
}

/**
 * A kafkajs client for replay. kafkajs logs at ERROR and above go to the `replay` pino logger
 * (payloads are never logged). Connecting is lazy: nothing opens a socket until a client connects.
 * @param security TLS and SASL of the connections. @default PLAINTEXT
 */
export function replayKafka(brokers: string[], clientId: string, security: KafkaSecurity = PLAINTEXT): Kafka {
  const log = stageLog('replay')
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.ERROR,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log
      log[levelNames[entry.level] === 'error' ? 'warn' : (levelNames[entry.level] ?? 'info')]({ kafkajs: entry.namespace, ...extra }, message)
    },
    ...kafkaSecurityConfig(security),
  })
}

/**
 * The partition ids of `topic`, sorted, checking that it exists (topics are never auto-created).
 * @throws FlowhouseError NOT_FOUND `topic "x" does not exist: start the daemon with the pipeline first`;
 *   FlowhouseError KAFKA_ERROR (retriable) when the brokers cannot be reached.
 */
export async function topicPartitions(admin: Admin, topic: string): Promise<number[]> {
  let topics: string[]
  try {
    topics = await admin.listTopics()
  } catch (error) {
    throw new FlowhouseError('KAFKA_ERROR', `cannot list Kafka topics: ${messageOf(error)}`, { retriable: true, cause: error, context: { topic } })
  }
  if (!topics.includes(topic)) {
    throw new FlowhouseError('NOT_FOUND', `topic "${topic}" does not exist: start the daemon with the pipeline first`, { context: { topic } })
  }
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    const partitions = metadata.topics[0]?.partitions.map((p) => p.partitionId) ?? []
    if (partitions.length === 0) throw new Error('no partitions in the topic metadata')
    return partitions.sort((a, b) => a - b)
  } catch (error) {
    throw new FlowhouseError('KAFKA_ERROR', `cannot read the metadata of topic "${topic}": ${messageOf(error)}`, { retriable: true, cause: error, context: { topic } })
  }
}

/** Runs `fn` with a connected admin client and disconnects it afterwards, whatever happens. */
export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin()
  try {
    await admin.connect()
    return await fn(admin)
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}
