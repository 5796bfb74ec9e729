/**
 * Kafka client factory (kafkajs), logging through pino instead of kafkajs's console logger.
 */
import { Kafka, logLevel, type LogEntry } from 'kafkajs'
import { stageLog } from '../util/log.ts'

const kafkaLog = stageLog('kafka')

/**
 * Kafka protocol errors that kafkajs retries by itself while a broker warms up or a group
 * rebalances (texts of kafkajs's `src/protocol/error.js`): logged at debug, not as errors.
 */
const TRANSIENT = [
  'The group coordinator is not available',
  'This is not the correct coordinator for this group',
  "The coordinator is loading and hence can't process requests",
  'There is no leader for this topic-partition as we are in the middle of a leadership election',
  'This server is not the leader for that topic-partition',
  'The group is rebalancing, so a rejoin is needed',
]

/** True when a kafkajs log entry reports a transient error that kafkajs retries (TRANSIENT). */
export function isTransientKafkaLog(entry: { message?: unknown; error?: unknown }): boolean {
  const text = `${String(entry.message ?? '')} ${String(entry.error ?? '')}`
  return TRANSIENT.some((t) => text.includes(t))
}

function logCreator() {
  return ({ level, log: entry }: LogEntry) => {
    const { message, ...rest } = entry
    if (level <= logLevel.WARN && isTransientKafkaLog(entry)) kafkaLog.debug(rest, message)
    else if (level === logLevel.ERROR) kafkaLog.error(rest, message)
    else if (level === logLevel.WARN) kafkaLog.warn(rest, message)
    else if (level === logLevel.INFO) kafkaLog.debug(rest, message)
  }
}

/**
 * @param brokers `host:port` bootstrap brokers.
 * @param clientId Kafka client id, visible in broker logs and quotas.
 */
export function createKafka(brokers: string[], clientId = 'flowhouse'): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator,
    retry: { initialRetryTime: 200, retries: 8 },
  })
}
