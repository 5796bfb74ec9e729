/**
 * Kafka client factory (kafkajs), logging through pino instead of kafkajs's console logger, with
 * the transport security resolved by options.ts (TLS, SASL) applied to every connection.
 */
import { Kafka, logLevel, type Admin, type KafkaConfig, type LogEntry } from 'kafkajs'
import { FlowhouseError, messageOf } from '../errors.ts'
import { stageLog } from '../util/log.ts'
import { describeKafkaSecurity, PLAINTEXT, type KafkaSecurity } from './options.ts'
// Side effect: kafkajs's idle connections stop spinning a 1 ms timer.
import './request-queue.ts'

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

/**
 * The error to raise when a first connection to the brokers fails, saying where and over which
 * protocol. kafkajs does not retry a SASL authentication failure, so a wrong password ends the
 * start at once, with a non-retriable error that names the variables to check; other failures
 * (unreachable broker, TLS handshake) come after kafkajs's retries and are retriable.
 * @returns FlowhouseError KAFKA_ERROR, e.g. `cannot connect to Kafka at 127.0.0.1:9192 over
 *   SASL_SSL (SCRAM-SHA-512): SASL SCRAM SHA512 authentication failed: ... (check KAFKA_SASL_USERNAME and the password)`
 */
export function kafkaConnectError(error: unknown, brokers: string[], security: KafkaSecurity): FlowhouseError {
  const auth = error instanceof Error && error.name === 'KafkaJSSASLAuthenticationError'
  const hint = auth ? ' (check KAFKA_SASL_USERNAME and the password in KAFKA_SASL_PASSWORD / KAFKA_SASL_PASSWORD_FILE)' : ''
  return new FlowhouseError('KAFKA_ERROR', `cannot connect to Kafka at ${brokers.join(',')} over ${describeKafkaSecurity(security)}: ${messageOf(error)}${hint}`, {
    retriable: !auth,
    cause: error,
  })
}

/** Node's codes for a peer certificate it does not trust, or a certificate the peer refused. */
const CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

function tlsRejection(error: unknown): { code: string; message: string } | undefined {
  for (let e: unknown = error; e instanceof Error; e = (e as Error & { cause?: unknown }).cause) {
    const code = (e as Error & { code?: unknown }).code
    if (typeof code === 'string' && (CERTIFICATE_CODES.has(code) || code.startsWith('ERR_SSL_'))) return { code, message: e.message }
  }
  return undefined
}

/**
 * Connects `admin` to the brokers. With TLS on, one connection without retries comes first: a
 * certificate the client does not trust, or one the broker refuses (a missing or unknown client
 * certificate), is not going to change, so it stops the start at once instead of after kafkajs's
 * retries (about 30 to 60 s). Any other failure of that attempt is left to the connect with retries.
 * @throws FlowhouseError KAFKA_ERROR (non-retriable) `TLS to Kafka at <brokers> failed (<code>): ...`
 *   naming the variables to check; otherwise the error of kafkaConnectError().
 */
export async function connectKafkaAdmin(admin: Admin, brokers: string[], clientId: string, security: KafkaSecurity): Promise<void> {
  if (security.ssl) {
    const probe = new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 }, ...kafkaSecurityConfig(security) }).admin()
    try {
      await probe.connect()
    } catch (error) {
      const rejected = tlsRejection(error)
      if (rejected) {
        throw new FlowhouseError(
          'KAFKA_ERROR',
          `TLS to Kafka at ${brokers.join(',')} failed (${rejected.code}): ${rejected.message.replace(/^Connection error: /, '').trim()}; check KAFKA_SSL_CA_FILE (the CA that signed the broker certificate), KAFKA_SSL_CERT_FILE / KAFKA_SSL_KEY_FILE (a client certificate the broker trusts) and that the broker certificate names the host in KAFKA_BROKERS`,
          { retriable: false, cause: error },
        )
      }
      if (error instanceof Error && error.name === 'KafkaJSSASLAuthenticationError') throw kafkaConnectError(error, brokers, security)
    } finally {
      await probe.disconnect().catch(() => undefined)
    }
  }
  await admin.connect().catch((error: unknown) => {
    throw kafkaConnectError(error, brokers, security)
  })
}
