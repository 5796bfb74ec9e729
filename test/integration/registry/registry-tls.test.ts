/**
 * A schema registry pipeline reading its registry over https with `tls.ca`: an https proxy in
 * front of the real registry (Apicurio, the project's services) with a certificate for 127.0.0.1
 * made by openssl for the test; the daemon trusts it only through the pipeline's `tls.ca`.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import srModule from '@kafkajs/confluent-schema-registry'
import { registryOptions } from '../../../src/transforms/registry.ts'
import { kafka, metricValue, removeDir, sql, startDaemon, tempDir, waitFor, type DaemonProcess, REGISTRY } from '../helpers.ts'

const { SchemaRegistry, SchemaType } = srModule
const name = `tls_events_${randomBytes(4).toString('hex')}`
let daemon: DaemonProcess
let dir: string
let proxy: Server

before(async () => {
  dir = await tempDir('registry-tls')
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
  const [key, cert] = await Promise.all([readFile(path.join(dir, 'key.pem')), readFile(path.join(dir, 'cert.pem'))])
  proxy = createServer({ key, cert }, async (req, res) => {
    const upstream = await fetch(`${REGISTRY}${req.url}`, { method: req.method, headers: { accept: req.headers.accept ?? '*/*' } })
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await upstream.arrayBuffer()))
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const port = (proxy.address() as { port: number }).port
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(
    path.join(dir, 'pipelines', 'events.ts'),
    `import { readFileSync } from 'node:fs'
import { IngestPipeline, Key, t } from 'flowhouse'
export const events = new IngestPipeline('${name}', {
  schema: t.Object({ id: Key(t.String()), n: t.Int32() }),
  format: { schemaRegistry: { url: 'https://127.0.0.1:${port}', tls: { ca: readFileSync(${JSON.stringify(path.join(dir, 'cert.pem'))}, 'utf8') } } },
})
`,
  )
  daemon = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data'), env: { FLOWHOUSE_BATCH_FLUSH_MS: '300' } })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  proxy?.closeAllConnections()
  proxy?.close()
  if (dir) await removeDir(dir)
})

test('a pipeline whose registry is https with tls.ca decodes its messages through it', { timeout: 60_000 }, async () => {
  const registry = new SchemaRegistry(...registryOptions({ url: REGISTRY }))
  const avro = { type: 'record', name: 'Event', namespace: 'test.tls', fields: [{ name: 'id', type: 'string' }, { name: 'n', type: 'int' }] }
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(avro) }, { subject: `${name}-value` })
  const producer = kafka().producer()
  await producer.connect()
  await producer.send({ topic: name, messages: [{ value: await registry.encode(id, { id: 'e1', n: 1 }) }, { value: await registry.encode(id, { id: 'e2', n: 2 }) }], acks: -1 })
  await producer.disconnect()
  const rows = await waitFor(async () => {
    const r = await sql<{ id: string; n: number }>(daemon.url, `SELECT id, n FROM ${name} ORDER BY id`)
    return r.length === 2 ? r : undefined
  }, { what: 'two rows' })
  assert.deepEqual(rows, [{ id: 'e1', n: 1 }, { id: 'e2', n: 2 }])
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: name }), 0)
})
