/**
 * Kafka over SASL_SSL: a broker whose only listener is SASL_SSL with client certificates
 * required (scripts/services.sh up kafka-secure), and the daemon, the ingest API and the replay
 * command reaching it with each SASL mechanism. The rows must land in ClickHouse exactly.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { FLIGHTS_PARQUET, ROOT, flightsSource, removeDir, runReplay, sql, startDaemon, tempDir, truth, waitFor, type DaemonProcess } from '../helpers.ts'
import { downSecure, ingest, kafkaSecureEnv, resetSecureKafka, startExpectingFailure, syntheticFlights, upSecure } from './secure-services.ts'

const PIPELINES = path.join(ROOT, 'pipelines')
const daemons: DaemonProcess[] = []
const dirs: string[] = []

before(() => upSecure('kafka-secure'))

after(async () => {
  for (const d of daemons) await d.kill('SIGTERM')
  for (const dir of dirs) await removeDir(dir)
  downSecure('kafka-secure')
})

const count = async (url: string) => Number((await sql<{ n: string }>(url, 'SELECT count() AS n FROM flights'))[0]!.n)

async function runDaemonOn(mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'): Promise<DaemonProcess> {
  await resetSecureKafka(['flights', 'flights.dlq'], ['flowhouse.flights'])
  const dir = await tempDir(`sasl-${mechanism}`)
  dirs.push(dir)
  const daemon = await startDaemon({ pipelinesDir: PIPELINES, dataDir: dir, env: { ...kafkaSecureEnv(mechanism), CLICKHOUSE_URL: '', FLOWHOUSE_BATCH_FLUSH_MS: '200' } })
  daemons.push(daemon)
  return daemon
}

for (const mechanism of ['plain', 'scram-sha-512', 'scram-sha-256'] as const) {
  test(`the daemon ingests over SASL_SSL with ${mechanism.toUpperCase()} and a client certificate, and every row lands in ClickHouse`, { timeout: 180_000 }, async (t) => {
    const daemon = await runDaemonOn(mechanism)
    t.after(() => daemon.kill('SIGTERM'))
    const { records, totalDelay, totalDistance } = syntheticFlights(1_500, mechanism)
    assert.equal(await ingest(daemon.url, 'flights', records.slice(0, 700)), 200)
    assert.equal(await ingest(daemon.url, 'flights', records.slice(700)), 200)
    await waitFor(async () => (await count(daemon.url)) === 1_500, { timeoutMs: 60_000, what: '1,500 rows in flights' })
    const [row] = await sql(daemon.url, 'SELECT count() AS n, sum(delay) AS delay, sum(distance) AS distance, uniqExact(id) AS ids FROM flights')
    assert.deepEqual(Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)])), { n: 1_500, delay: totalDelay, distance: totalDistance, ids: 1_500 })
    const [mv] = await sql(daemon.url, 'SELECT sum(flights) AS flights FROM flights_daily_delays')
    assert.equal(Number(mv!.flights), 1_500)
  })
}

test('flowhouse replay produces to the SASL_SSL broker from the same variables (SCRAM-SHA-512)', { timeout: 180_000 }, async (t) => {
  const daemon = await runDaemonOn('scram-sha-512')
  t.after(() => daemon.kill('SIGTERM'))
  const env = kafkaSecureEnv('scram-sha-512')
  const { code, output } = await runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--limit', '3000', '--brokers', env.KAFKA_BROKERS!], env).done
  assert.equal(code, 0, output)
  await waitFor(async () => (await count(daemon.url)) === 3_000, { timeoutMs: 60_000, what: '3,000 replayed flights in ClickHouse' })
  const [expected] = await truth<{ delay: string }>(`SELECT toString(sum(delay)) AS delay FROM ${flightsSource(3_000)}`)
  const [got] = await sql<{ delay: string }>(daemon.url, 'SELECT toString(sum(delay)) AS delay FROM flights')
  assert.equal(got!.delay, expected!.delay)
})

test('a wrong SASL password stops the start within seconds with an authentication error that does not print the password', { timeout: 90_000 }, async () => {
  const dir = await tempDir('sasl-wrong')
  dirs.push(dir)
  for (const mechanism of ['scram-sha-512', 'plain'] as const) {
    const wrong = `wrong-${mechanism}-${Date.now()}`
    const { code, output, ms } = await startExpectingFailure({ ...kafkaSecureEnv(mechanism, wrong), CLICKHOUSE_URL: '' }, dir, PIPELINES)
    assert.equal(code, 1, output)
    assert.ok(ms < 20_000, `took ${ms} ms`)
    const name = mechanism === 'plain' ? 'PLAIN' : 'SCRAM-SHA-512'
    assert.match(output, new RegExp(`flowhouse: cannot connect to Kafka at 127\\.0\\.0\\.1:9192 over SASL_SSL \\(${name}\\): SASL .*authentication failed.*\\(check KAFKA_SASL_USERNAME and the password`, 'i'))
    assert.ok(!output.includes(wrong), output)
  }
})

test('a missing client certificate or an untrusted broker certificate stops the start within seconds, naming the TLS error', { timeout: 90_000 }, async () => {
  const dir = await tempDir('tls-refused')
  dirs.push(dir)
  const env: Record<string, string> = { ...kafkaSecureEnv('plain'), CLICKHOUSE_URL: '' }
  const without = (...names: string[]) => Object.fromEntries(Object.entries(env).filter(([k]) => !names.includes(k)))
  const withoutClientCertificate = without('KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE')
  const withoutCa = without('KAFKA_SSL_CA_FILE')
  // The OpenSSL code of the alert: ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE (Node 20) or
  // ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE (Node 24, OpenSSL 3.5).
  const cases: Array<[Record<string, string>, RegExp]> = [
    [withoutClientCertificate, /flowhouse: TLS to Kafka at 127\.0\.0\.1:9192 failed \(ERR_SSL_[A-Z0-9_/]+\): .*alert.*; check KAFKA_SSL_CA_FILE/],
    [{ ...withoutCa, KAFKA_SSL: 'true' }, /flowhouse: TLS to Kafka at 127\.0\.0\.1:9192 failed \(SELF_SIGNED_CERT_IN_CHAIN\): self-signed certificate in certificate chain; check KAFKA_SSL_CA_FILE/],
  ]
  for (const [caseEnv, message] of cases) {
    const { code, output, ms } = await startExpectingFailure(caseEnv, dir, PIPELINES)
    assert.equal(code, 1, output)
    assert.match(output, message)
    assert.ok(ms < 20_000, `took ${ms} ms`)
  }
})
