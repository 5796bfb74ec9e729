import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import { TransformPool } from '../../../src/transforms/pool.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
let dir: string
let file: string

before(async () => {
  await mkdir(path.join(ROOT, '.data', 'test'), { recursive: true })
  dir = await mkdtemp(path.join(ROOT, '.data', 'test', 'pool-'))
  file = path.join(dir, 'spin.ts')
  await writeFile(
    file,
    `import { IngestPipeline, Key, OlapTable, t } from 'flowhouse'
export const spin = new IngestPipeline('spin', { schema: t.Object({ id: Key(t.String()), n: t.Int32() }), table: false })
const out = new OlapTable('spin_out', t.Object({ id: Key(t.String()), n: t.Int32() }), { orderByFields: ['id'] })
spin.stream.addTransform(out, (e) => { if (e.n === 0) for (;;) {} return [e] })
`,
  )
})

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v))

test('a worker task that never answers settles as a task_timeout dead letter after two attempts, and the pool keeps working', { timeout: 60_000 }, async () => {
  const pool = new TransformPool(1, { taskTimeoutMs: 1_500 })
  try {
    const started = Date.now()
    const r = await pool.run({ file, version: '1', stream: 'spin', value: bytes([{ id: 'a', n: 0 }]) })
    const elapsed = Date.now() - started
    assert.deepEqual(r.dlq.map((d) => [d.stage, d.errorType, d.raw]), [['transform', 'task_timeout', '[{"id":"a","n":0}]']])
    assert.ok(elapsed >= 3_000 && elapsed < 20_000, `settled after ${elapsed} ms`)
    const ok = await pool.run({ file, version: '1', stream: 'spin', value: bytes([{ id: 'b', n: 1 }]) })
    assert.equal(ok.tables[0]!.rows, '{"id":"b","n":1}\n')
  } finally {
    await pool.close()
  }
})
