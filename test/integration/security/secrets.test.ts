/**
 * Credentials stay out of every log line, error and API answer, and ClickHouse over https with
 * a client certificate. The daemon runs with a Kafka SASL password (SASL_SSL broker), a ClickHouse
 * password inside an https CLICKHOUSE_URL (the HTTPS clickhouse-server that requires client
 * certificates) and an API key in its environment; then all of its output and the answers of its
 * routes, errors included, are searched for the three secrets.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { removeDir, sql, startDaemon, tempDir, waitFor, type DaemonProcess } from '../helpers.ts'
import { credentials, downSecure, ingest, kafkaSecureEnv, resetSecureKafka, startExpectingFailure, tlsDir, upSecure } from './secure-services.ts'

const name = `sec_${randomBytes(4).toString('hex')}`
const API_KEY = `fhk_${randomBytes(24).toString('hex')}`
let dir: string
let pipelinesDir: string
let daemon: DaemonProcess | undefined

// The Debian server is 18.16: plain types only.
const moduleText = `
import { IngestPipeline, Key, t } from 'flowhouse'
export const Flight = t.Object({ id: Key(t.String()), delay: t.Int32(), origin: t.String() })
export const flights = new IngestPipeline('${name}', { schema: Flight, ingestApi: true, stream: { parallelism: 1 }, table: { orderByFields: ['id'] }, deadLetterQueue: true })
`

function clickhouseUrl(password: string): string {
  const c = credentials('clickhouse-secure')
  const url = new URL(c.CH_SECURE_URL!)
  url.username = c.CH_SECURE_USER!
  url.password = password
  return url.toString()
}

function clickhouseTlsEnv(withClientCertificate = true): Record<string, string> {
  const tls = tlsDir('clickhouse-secure')
  return {
    CLICKHOUSE_TLS_CA_FILE: path.join(tls, 'ca.pem'),
    ...(withClientCertificate ? { CLICKHOUSE_TLS_CERT_FILE: path.join(tls, 'client.pem'), CLICKHOUSE_TLS_KEY_FILE: path.join(tls, 'client.key') } : {}),
    CLICKHOUSE_DATABASE: name,
  }
}

before(async () => {
  upSecure('kafka-secure')
  upSecure('clickhouse-secure')
  dir = await tempDir('secrets')
  pipelinesDir = path.join(dir, 'pipelines')
  await mkdir(pipelinesDir)
  await writeFile(path.join(pipelinesDir, `${name}.ts`), moduleText)
  await resetSecureKafka([name, `${name}.dlq`], [`flowhouse.${name}`])
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dir) await removeDir(dir)
  await resetSecureKafka([name, `${name}.dlq`], [`flowhouse.${name}`]).catch(() => undefined)
  downSecure('clickhouse-secure')
  downSecure('kafka-secure')
})

test('a daemon using a SASL password, an https ClickHouse URL with a password and an API key prints none of them, in logs or answers', { timeout: 240_000 }, async () => {
  const kafkaEnv = kafkaSecureEnv('plain')
  const chPassword = credentials('clickhouse-secure').CH_SECURE_PASSWORD!
  const secrets = { kafka: kafkaEnv.KAFKA_SASL_PASSWORD!, clickhouse: chPassword, apiKey: API_KEY }
  daemon = await startDaemon({
    pipelinesDir,
    dataDir: path.join(dir, 'data'),
    env: { ...kafkaEnv, CLICKHOUSE_URL: clickhouseUrl(chPassword), ...clickhouseTlsEnv(), FLOWHOUSE_API_KEY: API_KEY, FLOWHOUSE_LOG_LEVEL: 'debug', FLOWHOUSE_BATCH_FLUSH_MS: '200' },
  })
  const url = daemon.url
  // The credentials work: records go through the SASL_SSL broker into the https server.
  const records = Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, delay: i - 50, origin: ['LAS', 'SFO', 'ORD'][i % 3] }))
  assert.equal(await ingest(url, name, records), 200)
  await waitFor(async () => Number((await sql(url, `SELECT count() AS n FROM ${name}`))[0]!.n) === 300, { timeoutMs: 60_000, what: '300 rows over https' })
  const [sum] = await sql(url, `SELECT sum(delay) AS s FROM ${name}`)
  assert.equal(Number(sum!.s), records.reduce((s, r) => s + r.delay, 0))
  assert.equal(await ingest(url, name, [{ id: 'bad', delay: 'x', origin: 'LAS' }]), 400)

  const answers: Array<{ request: string; status: number; body: string }> = []
  const get = async (route: string, init?: RequestInit) => {
    const res = await fetch(`${url}${route}`, init)
    answers.push({ request: `${init?.method ?? 'GET'} ${route}`, status: res.status, body: await res.text() })
  }
  // A ClickHouse outage: the insert errors are logged and /ready reports the failed ping.
  downSecure('clickhouse-secure')
  assert.equal(await ingest(url, name, records.map((r) => ({ ...r, id: `o${r.id}` }))), 200)
  await waitFor(() => daemon!.output().includes('retriable insert error'), { timeoutMs: 60_000, what: 'the insert retries to be logged' })
  await get('/ready')
  upSecure('clickhouse-secure')
  await waitFor(async () => Number((await sql(url, `SELECT count() AS n FROM ${name}`))[0]!.n) === 600, { timeoutMs: 90_000, what: '600 rows after the outage' })
  const post = (route: string, body: string, type = 'application/json') => get(route, { method: 'POST', headers: { 'content-type': type }, body })
  for (const route of ['/health', '/ready', '/metrics', '/api/pipelines', '/api/mv', '/api/constraints', '/api/violations', '/openapi.json', '/no/such/route']) await get(route)
  await post('/api/sql', JSON.stringify({ query: 'SELECT * FROM no_such_table_here' }))
  await post('/api/sql', JSON.stringify({ query: 'SELEC broken' }))
  await post('/api/sql', JSON.stringify({ query: `SELECT count() AS n FROM ${name}` }))
  await post(`/ingest/${name}`, '{"not": "an array"')
  await post('/api/mv', JSON.stringify({ name: 'x' }))
  await get(`/api/mv/${name}_none`)
  await daemon.kill('SIGTERM')
  const output = daemon.output()
  daemon = undefined

  // The search is meaningful: the daemon logged its start and stop, and the routes answered.
  if (process.env.FLOWHOUSE_TEST_DUMP) await writeFile(process.env.FLOWHOUSE_TEST_DUMP, `${output}\n${JSON.stringify(answers, null, 1)}`)
  for (const line of [/"msg":"created topics"/, /"msg":"flowhouse is running"/, /"msg":"stopped"/]) assert.match(output, line)
  assert.match(output, /retriable insert error/)
  const answer = (request: string) => answers.find((a) => a.request === request)
  assert.equal(answer('GET /ready')!.status, 503, answer('GET /ready')!.body)
  assert.ok(answer('GET /api/pipelines')!.body.includes(name), JSON.stringify(answers))
  assert.equal(answers.filter((a) => a.request === 'POST /api/sql').map((a) => a.status).join(), '400,400,200')
  for (const [what, secret] of Object.entries(secrets)) {
    assert.ok(!output.includes(secret), `the ${what} secret is in the daemon's output`)
    for (const { request, body } of answers) assert.ok(!body.includes(secret), `the ${what} secret is in the answer of ${request}`)
  }
})

test('a malformed CLICKHOUSE_URL fails at start without printing its password', { timeout: 60_000 }, async () => {
  const secret = `pw-${randomBytes(8).toString('hex')}`
  for (const bad of [`https://flowhouse:${secret}@127.0.0.1:bad-port`, `flowhouse:${secret}@127.0.0.1:8444`, `https://flowhouse:${secret}@127.0.0.1:99999`]) {
    const { code, output } = await startExpectingFailure({ CLICKHOUSE_URL: bad }, path.join(dir, 'bad-url'), pipelinesDir)
    assert.equal(code, 1, output)
    assert.match(output, /flowhouse: CLICKHOUSE_URL ".*\[Redacted\]@127\.0\.0\.1:.*" (is not a URL|must use http)/)
    assert.ok(!output.includes(secret), output)
  }
})

test('ClickHouse over https: a wrong password, no client certificate or an untrusted server certificate stop the start, saying why, without the password', { timeout: 120_000 }, async () => {
  const wrong = `wrong-${randomBytes(8).toString('hex')}`
  const good = credentials('clickhouse-secure').CH_SECURE_PASSWORD!
  const cases: Array<[Record<string, string>, RegExp, string]> = [
    [{ CLICKHOUSE_URL: clickhouseUrl(wrong), ...clickhouseTlsEnv() }, /Wrong password for user flowhouse/, wrong],
    [{ CLICKHOUSE_URL: clickhouseUrl(good), ...clickhouseTlsEnv(false) }, /certificate required/, good],
    [{ CLICKHOUSE_URL: clickhouseUrl(good), CLICKHOUSE_DATABASE: name }, /self[- ]signed certificate/, good],
  ]
  for (const [env, reason, secret] of cases) {
    const { code, output, ms } = await startExpectingFailure({ ...env, KAFKA_BROKERS: '127.0.0.1:9092' }, path.join(dir, 'bad-ch'), pipelinesDir)
    assert.equal(code, 1, output)
    assert.match(output, reason)
    assert.ok(ms < 45_000, `took ${ms} ms`)
    assert.ok(!output.includes(secret), output)
  }
})
