/**
 * Kafka client factory (kafkajs), logging through pino instead of kafkajs's console logger, with
 * the transport security resolved by options.ts (TLS, SASL) applied to every connection.
 */
import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs'
import { stageLog } from '../util/log.ts'
import { PLAINTEXT, type KafkaSecurity } from './options.ts'

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
 * The `ssl` / `sasl` fields of a kafkajs config for `security` (both absent for PLAINTEXT).
 * Spread it into every `new Kafka({...})` so no client skips TLS or SASL.
 */
export function kafkaSecurityConfig(security: KafkaSecurity): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  return {
    ...(security.ssl ? { ssl: security.ssl } : {}),
    ...(security.sasl ? { sasl: security.sasl } : {}),
  }
}

/**
 * @param brokers `host:port` bootstrap brokers.
 * @param clientId Kafka client id, visible in broker logs and quotas.
 * @param security TLS and SASL (DaemonConfig.kafkaSecurity). @default PLAINTEXT
 */
export function createKafka(brokers: string[], clientId = 'flowhouse', security: KafkaSecurity = PLAINTEXT): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator,
    retry: { initialRetryTime: 200, retries: 8 },
    ...kafkaSecurityConfig(security),
  })
}
