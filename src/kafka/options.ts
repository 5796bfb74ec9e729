/**
 * Transport security of every kafkajs client flowhouse builds (daemon, replay, CLI): TLS with an
 * optional CA and client certificate, and SASL PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512.
 * Resolved once from the environment (src/config.ts calls resolveKafkaSecurity); certificate and
 * password files are read at resolution time, so a missing file fails at start, naming its variable.
 * Passwords are registered with util/redact.ts, so no log line prints them.
 *
 * Also the options of the consumer runner (src/kafka/consumer.ts): batch limits, input bounds and
 * group membership. src/config.ts resolves all of them from the environment into DaemonConfig.
 */
import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import type { SASLOptions } from 'kafkajs'
import { ConfigError } from '../errors.ts'
import { setting } from '../util/environment.ts'
import { registerSecret } from '../util/redact.ts'

/** SASL mechanisms flowhouse configures (kafkajs's names). */
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const
export type SaslMechanism = (typeof SASL_MECHANISMS)[number]

/** TLS and SASL settings handed to `new Kafka({ ssl, sasl })`. Both undefined = PLAINTEXT. */
export interface KafkaSecurity {
  /**
   * TLS options (Node's `tls.connect`): `ca`, `cert`, `key`, `passphrase` as read from the files,
   * `rejectUnauthorized` (always true unless KAFKA_SSL_REJECT_UNAUTHORIZED=false).
   * Undefined = no TLS. Env KAFKA_SSL, KAFKA_SSL_CA_FILE, KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE,
   * KAFKA_SSL_KEY_PASSWORD. @default undefined
   */
  ssl: ConnectionOptions | undefined
  /**
   * SASL credentials. Undefined = no SASL. Env KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME,
   * KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE. @default undefined
   */
  sasl: (SASLOptions & { mechanism: SaslMechanism }) | undefined
}

/** No TLS, no SASL: the PLAINTEXT protocol. */
export const PLAINTEXT: KafkaSecurity = Object.freeze({ ssl: undefined, sasl: undefined })

function readSecretFile(variable: string, file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new ConfigError(`${variable}="${file}" cannot be read (${reason}): give the path of a readable PEM or text file`, { field: variable })
  }
}

/**
 * Resolves TLS and SASL from the environment.
 *  - TLS is on with KAFKA_SSL=true, or as soon as KAFKA_SSL_CA_FILE or KAFKA_SSL_CERT_FILE is set.
 *    Without a CA file the system's CAs are trusted. A client certificate needs its key.
 *  - SASL is on when KAFKA_SASL_MECHANISM is set (`plain`, `scram-sha-256`, `scram-sha-512`, any case);
 *    it needs KAFKA_SASL_USERNAME and exactly one of KAFKA_SASL_PASSWORD / KAFKA_SASL_PASSWORD_FILE
 *    (the file's trailing newline is dropped).
 * @returns PLAINTEXT when nothing is set.
 * @throws ConfigError naming the variable and the fix: an unknown mechanism, a missing username or
 *   password, both password variables, a certificate without key (or key without certificate), an
 *   unreadable file, a flag that is not true/false.
 */
export function resolveKafkaSecurity(env?: NodeJS.ProcessEnv): KafkaSecurity {
  const caFile = setting('KAFKA_SSL_CA_FILE', env)
  const certFile = setting('KAFKA_SSL_CERT_FILE', env)
  const keyFile = setting('KAFKA_SSL_KEY_FILE', env)
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError('KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together: set both for a client certificate, or neither', {
      field: certFile === undefined ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE',
    })
  }
  const tlsOn = setting('KAFKA_SSL', env) ?? (caFile !== undefined || certFile !== undefined)
  let ssl: ConnectionOptions | undefined
  if (tlsOn) {
    ssl = { rejectUnauthorized: setting('KAFKA_SSL_REJECT_UNAUTHORIZED', env) }
    if (caFile !== undefined) ssl.ca = readSecretFile('KAFKA_SSL_CA_FILE', caFile)
    if (certFile !== undefined && keyFile !== undefined) {
      ssl.cert = readSecretFile('KAFKA_SSL_CERT_FILE', certFile)
      ssl.key = readSecretFile('KAFKA_SSL_KEY_FILE', keyFile)
      const passphrase = setting('KAFKA_SSL_KEY_PASSWORD', env)
      registerSecret(passphrase)
      if (passphrase !== undefined) ssl.passphrase = passphrase
    }
  } else if (keyFile !== undefined) {
    throw new ConfigError('KAFKA_SSL=false but a client certificate is set: remove KAFKA_SSL=false or the KAFKA_SSL_*_FILE variables', { field: 'KAFKA_SSL' })
  }
  return { ssl, sasl: resolveSasl(env) }
}

function resolveSasl(env: NodeJS.ProcessEnv | undefined): KafkaSecurity['sasl'] {
  const raw = setting('KAFKA_SASL_MECHANISM', env)
  if (raw === undefined) {
    if (setting('KAFKA_SASL_USERNAME', env) !== undefined || setting('KAFKA_SASL_PASSWORD', env) !== undefined || setting('KAFKA_SASL_PASSWORD_FILE', env) !== undefined) {
      throw new ConfigError(`KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD are set without KAFKA_SASL_MECHANISM: set it to one of ${SASL_MECHANISMS.join(', ')}`, { field: 'KAFKA_SASL_MECHANISM' })
    }
    return undefined
  }
  const mechanism = raw.trim().toLowerCase() as SaslMechanism
  if (!SASL_MECHANISMS.includes(mechanism)) {
    throw new ConfigError(`KAFKA_SASL_MECHANISM="${raw}" is not supported: use one of ${SASL_MECHANISMS.join(', ')}`, { field: 'KAFKA_SASL_MECHANISM' })
  }
  const username = setting('KAFKA_SASL_USERNAME', env)
  if (username === undefined) throw new ConfigError(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_USERNAME`, { field: 'KAFKA_SASL_USERNAME' })
  const inline = setting('KAFKA_SASL_PASSWORD', env)
  const file = setting('KAFKA_SASL_PASSWORD_FILE', env)
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError('set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both', { field: 'KAFKA_SASL_PASSWORD' })
  }
  const password = file !== undefined ? readSecretFile('KAFKA_SASL_PASSWORD_FILE', file).toString('utf8').replace(/\r?\n$/, '') : inline
  if (password === undefined || password === '') {
    throw new ConfigError(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE`, { field: 'KAFKA_SASL_PASSWORD' })
  }
  registerSecret(password)
  return { mechanism, username, password }
}

/** `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL` plus the mechanism, for logs (never a credential). */
export function describeKafkaSecurity(security: KafkaSecurity): string {
  const protocol = security.sasl ? (security.ssl ? 'SASL_SSL' : 'SASL_PLAINTEXT') : security.ssl ? 'SSL' : 'PLAINTEXT'
  return security.sasl ? `${protocol} (${security.sasl.mechanism.toUpperCase()})` : protocol
}

/** When a partition's batch is flushed (src/delivery/batch.ts); resolved from the environment by src/config.ts. */
export interface BatchOptions {
  /** Flush a partition's batch once it holds this many rows. @default 100_000 */
  maxRows: number
  /**
   * Flush once the bytes the batch holds (JSONEachRow text, records for other streams, dead-letter
   * texts: PartitionBatch.heldBytes) reach this many. The flush is awaited before the partition
   * takes its next message, so this bounds the open batch of each partition; a flush holds about
   * two copies of its rows at once (each message's bytes and the concatenated insert body, which
   * the embedded engine reads in place). @default 8 MiB
   */
  maxBytes: number
  /** Flush a non-empty batch this long after its first message, in milliseconds. @default 1_000 */
  flushIntervalMs: number
  /**
   * Messages of one partition in the transform workers at once (their results are applied in
   * offset order; consecutive messages go to a worker in tasks of up to 256 messages or 1 MiB).
   * When it or `inflightBytes` is reached, results are applied down to half of both before more
   * messages are sent. Env FLOWHOUSE_INFLIGHT_MESSAGES. @default 2_048, at most 100_000
   */
  inflightMessages: number
  /** Value bytes of those messages at once, in bytes. Env FLOWHOUSE_INFLIGHT_BYTES. @default 4 MiB */
  inflightBytes: number
  /**
   * Backoff of an insert retried on a retriable ClickHouse error (the partition waits): the first
   * wait and the longest one, in milliseconds, doubling in between. Env
   * FLOWHOUSE_INSERT_RETRY_BASE_MS, FLOWHOUSE_INSERT_RETRY_MAX_MS. @default 250 and 30_000
   */
  insertRetryBaseMs: number
  insertRetryMaxMs: number
}

/**
 * Bounds on consumed input (DESIGN.md "Bounded input"), checked before anything recursive
 * touches a value; a message or record over a bound is dead-lettered with an errorType naming it.
 */
export interface DecodeOptions {
  /** Deepest nesting of one record (a scalar is 0, `{}` is 1); deeper: `max_depth_exceeded`. Env FLOWHOUSE_MAX_DEPTH. @default 64, at most 1_000 */
  maxDepth: number
  /** Largest record, as bytes of its JSON text; larger: `record_too_large`. Env FLOWHOUSE_MAX_RECORD_BYTES. @default 1 MiB */
  maxRecordBytes: number
  /** Largest Kafka message value; larger: `message_too_large`, dead-lettered without going to a worker. Env FLOWHOUSE_MAX_MESSAGE_BYTES. @default 16 MiB */
  maxMessageBytes: number
  /** A task sent to a worker that has not answered after this long is retried once, then dead-lettered (`task_timeout`), in ms. Env FLOWHOUSE_TASK_TIMEOUT_MS. @default 60_000 */
  taskTimeoutMs: number
}

/**
 * Consumer group membership and fetch sizes. kafkajs has no static membership (`group.instance.id`, KIP-345;
 * tulios/kafkajs#884), so a member that died is only replaced once its session expires: the
 * session timeout bounds recovery after a kill -9. A clean stop leaves the group at once.
 */
export interface GroupOptions {
  /** The broker drops a member that has not sent a heartbeat for this long, in milliseconds; the broker accepts 6_000–1_800_000 by default (group.min/max.session.timeout.ms). Env FLOWHOUSE_KAFKA_SESSION_TIMEOUT_MS. @default 10_000 */
  sessionTimeoutMs: number
  /** How often a member sends heartbeats, in milliseconds; must be below the session timeout (about a third of it). Env FLOWHOUSE_KAFKA_HEARTBEAT_INTERVAL_MS. @default 3_000 */
  heartbeatIntervalMs: number
  /**
   * Fetch request size per partition (kafkajs maxBytesPerPartition, Kafka's max.partition.fetch.bytes),
   * in bytes. kafkajs fetches again only after every batch of the previous response was handled, so
   * this, times the partitions of a member, bounds the fetched bytes held per stream; a larger
   * message is still fetched whole (the broker returns at least one record batch).
   * Env FLOWHOUSE_KAFKA_FETCH_MAX_BYTES_PER_PARTITION. @default 2 MiB
   */
  fetchMaxBytesPerPartition: number
  /** Fetch response size over all partitions (kafkajs maxBytes, Kafka's fetch.max.bytes), in bytes. Env FLOWHOUSE_KAFKA_FETCH_MAX_BYTES. @default 16 MiB */
  fetchMaxBytes: number
}
