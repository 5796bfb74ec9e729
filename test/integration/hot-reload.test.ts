/**
 * Hot reload of the pipelines folder of a live daemon: a module added, changed (compatible and
 * destructive), broken, and removed — with the real broker and the embedded ClickHouse.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { metricValue, removeDir, sql, startDaemon, tempDir, waitFor, type DaemonProcess } from './helpers.ts'

const tag = randomBytes(3).toString('hex')
const A = `reload_a_${tag}`
const B = `reload_b_${tag}`
let dir: string
let pipelinesDir: string
let daemon: DaemonProcess

/** A module: pipeline NAME whose transform writes rows { id, n, version } (plus `extra` columns) to NAME_rows. */
const moduleText = (name: string, version: number, extra = '') => `
import { IngestPipeline, Key, OlapTable, t } from 'flowhouse'
const Event = t.Object({ id: Key(t.String()), n: t.Int32() })
export const p = new IngestPipeline('${name}', { schema: Event, table: false })
export const rows = new OlapTable('${name}_rows', t.Object({ id: Key(t.String()), n: t.Int32(), version: t.Int32()${extra} }), { orderByFields: ['id'] })
p.stream.addTransform(rows, (e) => [{ ...e, version: ${version}${extra ? ', note: "x"' : ''} }])
`

const write = async (file: string, text: string) => {
  await writeFile(path.join(pipelinesDir, file), text)
}
const pipelines = async () => (await (await fetch(`${daemon.url}/api/pipelines`)).json()) as { pipelines: Array<{ name: string }>; modules: Array<{ file: string; running: boolean; error: string | null; reloadError: string | null }> }
const ingest = (name: string, records: object[]) => fetch(`${daemon.url}/ingest/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) })
const versions = async (name: string) => (await sql<{ version: number; n: string }>(daemon.url, `SELECT version, count() AS n FROM ${name}_rows GROUP BY version ORDER BY version`)).map((r) => [Number(r.version), Number(r.n)])

before(async () => {
  dir = await tempDir('hot-reload')
  pipelinesDir = path.join(dir, 'pipelines')
  await mkdir(pipelinesDir)
  await write('a.ts', moduleText(A, 1, ', note: t.String()'))
  daemon = await startDaemon({ pipelinesDir, dataDir: path.join(dir, 'data'), env: { FLOWHOUSE_BATCH_FLUSH_MS: '200', FLOWHOUSE_RELOAD_INTERVAL_MS: '500' } })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dir) await removeDir(dir)
})

test('a module dropped into the folder is provisioned and consuming within seconds, without a restart', { timeout: 60_000 }, async () => {
  await write('b.ts', moduleText(B, 1))
  await waitFor(async () => (await pipelines()).pipelines.some((p) => p.name === B), { timeoutMs: 10_000, what: 'module b to be loaded' })
  await waitFor(async () => (await ingest(B, [{ id: 'b1', n: 1 }])).status === 200, { timeoutMs: 10_000, what: 'ingest into b' })
  await waitFor(async () => JSON.stringify(await versions(B)) === '[[1,1]]', { what: 'b1 written' })
})

test('a changed module restarts its consumers with the new code from the committed offsets', { timeout: 60_000 }, async () => {
  assert.equal((await ingest(A, [{ id: 'a1', n: 1 }, { id: 'a2', n: 2 }])).status, 200)
  await waitFor(async () => JSON.stringify(await versions(A)) === '[[1,2]]', { what: 'a1, a2 written by version 1' })
  await new Promise((r) => setTimeout(r, 20)) // a new modification time
  await write('a.ts', moduleText(A, 2, ', note: t.String()'))
  await waitFor(async () => (await pipelines()).modules.find((m) => m.file.endsWith('a.ts'))?.reloadError === null && (await metricValue(daemon.url, 'flowhouse_pipelines_loaded')) === 2, { timeoutMs: 10_000, what: 'the reload' })
  await waitFor(async () => {
    await ingest(A, [{ id: `a3-${Date.now()}`, n: 3 }])
    return (await versions(A)).some(([v]) => v === 2)
  }, { timeoutMs: 15_000, intervalMs: 1_000, what: 'rows from version 2' })
  // The first two records were not consumed again by the new version: each is there once, from version 1.
  const early = await sql<{ id: string; version: number }>(daemon.url, `SELECT id, version FROM ${A}_rows WHERE id IN ('a1', 'a2') ORDER BY id`)
  assert.deepEqual(early.map((r) => [r.id, Number(r.version)]), [['a1', 1], ['a2', 1]])
})

test('a change that would lose data is refused with a clear message and the old version keeps running', { timeout: 60_000 }, async () => {
  const errorsBefore = await metricValue(daemon.url, 'flowhouse_module_load_errors')
  await write('a.ts', moduleText(A, 3)) // drops the column `note`
  const refusal = await waitFor(async () => (await pipelines()).modules.find((m) => m.file.endsWith('a.ts'))?.reloadError, { timeoutMs: 10_000, what: 'the refusal' })
  assert.match(refusal, /refused, version \d+ keeps running: .*note/)
  assert.equal(await metricValue(daemon.url, 'flowhouse_module_load_errors'), errorsBefore + 1, 'the refused module is counted')
  assert.equal((await ingest(A, [{ id: 'a-after-refusal', n: 4 }])).status, 200)
  await waitFor(async () => (await sql<{ version: number }>(daemon.url, `SELECT version FROM ${A}_rows WHERE id = 'a-after-refusal'`))[0]?.version == 2, { what: 'the old version (2) to keep writing' })
  await write('a.ts', moduleText(A, 2, ', note: t.String()'))
  await waitFor(async () => (await pipelines()).modules.find((m) => m.file.endsWith('a.ts'))?.reloadError === null && (await metricValue(daemon.url, 'flowhouse_module_load_errors')) === errorsBefore, { timeoutMs: 10_000, what: 'the module back at version 2 without an error' })
})

test('a module that fails to load fails /ready with its error in the detail and a metric while the others keep running', { timeout: 60_000 }, async () => {
  const errorsBefore = await metricValue(daemon.url, 'flowhouse_module_load_errors')
  await write('broken.ts', `import { IngestPipeline } from 'flowhouse'\nexport const p = new IngestPipeline('broken_${tag}', { schema: 42 })\n`)
  const ready = await waitFor(async () => {
    const res = await fetch(`${daemon.url}/ready`)
    const body = (await res.json()) as { checks: { modules: { detail: { failed: Array<{ file: string; error: string }> } } } }
    return body.checks.modules.detail.failed.some((f) => f.file.endsWith('broken.ts')) ? { status: res.status, body } : undefined
  }, { timeoutMs: 10_000, what: 'the broken module in /ready' })
  assert.equal(ready.status, 503, 'a module that is not running makes the daemon unready')
  assert.equal((ready.body.checks.modules as unknown as { ok: boolean }).ok, false)
  assert.match(ready.body.checks.modules.detail.failed.find((f) => f.file.endsWith('broken.ts'))!.error, /pipeline "broken_/)
  assert.equal(await metricValue(daemon.url, 'flowhouse_module_load_errors'), errorsBefore + 1, 'the broken module is counted')
  assert.equal((await ingest(B, [{ id: 'b2', n: 2 }])).status, 200)
  await waitFor(async () => JSON.stringify(await versions(B)) === '[[1,2]]', { what: 'b still consuming' })
  await rm(path.join(pipelinesDir, 'broken.ts'))
  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_module_load_errors')) === errorsBefore, { timeoutMs: 10_000, what: 'the broken module no longer counted once removed' })
})

test('a removed module stops consuming and its data stays', { timeout: 60_000 }, async () => {
  await rm(path.join(pipelinesDir, 'b.ts'))
  await waitFor(async () => !(await pipelines()).pipelines.some((p) => p.name === B), { timeoutMs: 10_000, what: 'module b to be removed' })
  assert.equal((await ingest(B, [{ id: 'b3', n: 3 }])).status, 404)
  assert.deepEqual(await versions(B), [[1, 2]])
  assert.ok((await pipelines()).pipelines.some((p) => p.name === A))
})
