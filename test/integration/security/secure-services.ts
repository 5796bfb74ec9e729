/**
 * The SASL_SSL broker and the HTTPS ClickHouse server of the transport-security tests, started
 * and stopped through scripts/services.sh (kafka-secure, clickhouse-secure), with their test
 * PKI and random credentials read from `.services/<service>/`.
 */
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { ROOT, freePort, waitFor } from '../helpers.ts'

export type SecureService = 'kafka-secure' | 'clickhouse-secure'

function services(action: 'up' | 'down', service: SecureService): void {
  const run = spawnSync('bash', [path.join(ROOT, 'scripts/services.sh'), action, service], { encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`services.sh ${action} ${service} failed:\n${run.stderr}`)
}

export const upSecure = (service: SecureService) => services('up', service)
export const downSecure = (service: SecureService) => services('down', service)

/** The variables of `.services/<service>/credentials.env`. */
export function credentials(service: SecureService): Record<string, string> {
  const text = readFileSync(path.join(ROOT, '.services', service, 'credentials.env'), 'utf8')
  return Object.fromEntries(text.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]))
}

export const tlsDir = (service: SecureService) => path.join(ROOT, '.services', service, 'tls')

/** The daemon's environment for the secure broker with `mechanism` (the user of that mechanism). */
export function kafkaSecureEnv(mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', password?: string): Record<string, string> {
  const c = credentials('kafka-secure')
  const tls = tlsDir('kafka-secure')
  const plain = mechanism === 'plain'
  return {
    KAFKA_BROKERS: c.KAFKA_SECURE_BROKERS!,
    KAFKA_SSL_CA_FILE: path.join(tls, 'ca.pem'),
    KAFKA_SSL_CERT_FILE: path.join(tls, 'client.pem'),
    KAFKA_SSL_KEY_FILE: path.join(tls, 'client.key'),
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: plain ? c.KAFKA_SECURE_PLAIN_USER! : c.KAFKA_SECURE_SCRAM_USER!,
    KAFKA_SASL_PASSWORD: password ?? (plain ? c.KAFKA_SECURE_PLAIN_PASSWORD! : c.KAFKA_SECURE_SCRAM_PASSWORD!),
  }
}

/** A kafkajs client of the test itself (not flowhouse's factory) on the secure broker, as the PLAIN user. */
export function secureKafka(): Kafka {
  const c = credentials('kafka-secure')
  const tls = tlsDir('kafka-secure')
  return new Kafka({
    clientId: 'flowhouse-security-test',
    brokers: [c.KAFKA_SECURE_BROKERS!],
    logLevel: logLevel.NOTHING,
    ssl: { ca: readFileSync(path.join(tls, 'ca.pem')), cert: readFileSync(path.join(tls, 'client.pem')), key: readFileSync(path.join(tls, 'client.key')) },
    sasl: { mechanism: 'plain', username: c.KAFKA_SECURE_PLAIN_USER!, password: c.KAFKA_SECURE_PLAIN_PASSWORD! },
  })
}

/** Deletes `topics` and `groups` on the secure broker, so a run starts clean. */
export async function resetSecureKafka(topics: string[], groups: string[]): Promise<void> {
  const admin = secureKafka().admin()
  await admin.connect()
  try {
    const doomed = (await admin.listTopics()).filter((t) => topics.includes(t))
    if (doomed.length > 0) {
      await admin.deleteTopics({ topics: doomed, timeout: 30_000 })
      await waitFor(async () => !(await admin.listTopics()).some((t) => doomed.includes(t)), { what: 'topics to be deleted on the secure broker' })
    }
    const listed = new Set((await admin.listGroups()).groups.map((g) => g.groupId))
    const gone = groups.filter((g) => listed.has(g))
    if (gone.length > 0) await admin.deleteGroups(gone).catch(() => undefined)
  } finally {
    await admin.disconnect()
  }
}

/** `n` flights-like records (valid for pipelines/flights.ts), with exact totals to compare against. */
export function syntheticFlights(n: number, prefix: string): { records: Array<Record<string, unknown>>; totalDelay: number; totalDistance: number } {
  const airports = ['LAS', 'PHX', 'SFO', 'ORD', 'JFK']
  const records = Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    date: new Date(Date.UTC(2001, 0, 1 + (i % 28), i % 24)).toISOString(),
    delay: (i % 97) - 20,
    distance: 100 + (i % 1_000),
    origin: airports[i % 5]!,
    destination: airports[(i + 2) % 5]!,
  }))
  return {
    records,
    totalDelay: records.reduce((s, r) => s + (r.delay as number), 0),
    totalDistance: records.reduce((s, r) => s + (r.distance as number), 0),
  }
}

/** POSTs records to the daemon's ingest route and returns the HTTP status. */
export async function ingest(url: string, pipeline: string, records: unknown[]): Promise<number> {
  const res = await fetch(`${url}/ingest/${pipeline}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) })
  await res.text()
  return res.status
}

/** Runs `flowhouse start` expecting it to fail; resolves with its exit code, output and duration. */
export async function startExpectingFailure(env: Record<string, string>, dataDir: string, pipelinesDir: string): Promise<{ code: number | null; output: string; ms: number }> {
  const port = await freePort()
  const started = Date.now()
  let output = ''
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), 'start', '--pipelines', pipelinesDir, '--port', String(port)], {
    cwd: ROOT,
    env: { ...process.env, FLOWHOUSE_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output, ms: Date.now() - started })
    }),
  )
}
