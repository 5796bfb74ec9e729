/**
 * Kafka client factory (kafkajs), logging through pino instead of kafkajs's console logger.
 */
import { Kafka, logLevel, type LogEntry } from 'kafkajs'
import { stageLog } from '../util/log.ts'

const kafkaLog = stageLog('kafka')

function logCreator() {
  return ({ level, log: entry }: LogEntry) => {
    const { message, ...rest } = entry
    if (level === logLevel.ERROR) kafkaLog.error(rest, message)
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
