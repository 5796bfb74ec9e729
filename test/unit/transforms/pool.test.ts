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
    assert.equal(Buffer.from(ok.tables[0]!.rows).toString(), '{"id":"b","n":1}\n')
  } finally {
    await pool.close()
  }
})

test('several messages in one worker task each get their own result, in order, and the values given stay intact', { timeout: 60_000 }, async () => {
  const pool = new TransformPool(1, { taskTimeoutMs: 10_000 })
  try {
    // Three views of one larger buffer, as the Kafka client hands message values over.
    const texts = [JSON.stringify([{ id: 'a', n: 1 }, { id: 'b', n: 2 }]), JSON.stringify([{ id: 'c', n: 'x' }]), JSON.stringify([{ id: 'd', n: 4 }])]
    const fetch = Buffer.from(texts.join(''))
    const first = fetch.subarray(0, texts[0]!.length)
    const second = fetch.subarray(texts[0]!.length, texts[0]!.length + texts[1]!.length)
    const third = fetch.subarray(texts[0]!.length + texts[1]!.length)
    const tasks = [first, second, third].map((value) => ({ file, version: '1', stream: 'spin', value }))
    const results = await pool.runMany(tasks)
    assert.deepEqual(
      results.map((r) => [r.records, Buffer.from(r.tables[0]?.rows ?? []).toString(), r.dlq.length + (r.dlqText?.texts.length ?? 0)]),
      [
        [2, '{"id":"a","n":1}\n{"id":"b","n":2}\n', 0],
        [1, '', 1],
        [1, '{"id":"d","n":4}\n', 0],
      ],
    )
    assert.equal(first.toString(), '[{"id":"a","n":1},{"id":"b","n":2}]', "the caller's values are intact")
  } finally {
    await pool.close()
  }
})

test('a task of several messages that never answers runs each message on its own: the stuck one is a task_timeout, the others are processed', { timeout: 60_000 }, async () => {
  const pool = new TransformPool(1, { taskTimeoutMs: 1_500 })
  try {
    const tasks = [[{ id: 'a', n: 1 }], [{ id: 'b', n: 0 }], [{ id: 'c', n: 3 }]].map((v) => ({ file, version: '1', stream: 'spin', value: bytes(v) }))
    const results = await pool.runMany(tasks)
    assert.deepEqual(
      results.map((r) => [Buffer.from(r.tables[0]?.rows ?? []).toString(), r.dlq.map((d) => d.errorType)]),
      [
        ['{"id":"a","n":1}\n', []],
        ['', ['task_timeout']],
        ['{"id":"c","n":3}\n', []],
      ],
    )
  } finally {
    await pool.close()
  }
})

test('prepare has every worker thread load the module before any message; a module that fails to load fails the first task as before', { timeout: 60_000 }, async () => {
  const loads = path.join(dir, 'loads.txt')
  const counted = path.join(dir, 'counted.ts')
  // Each import of the module (one per thread and version) appends a line.
  await writeFile(
    counted,
    `import { appendFileSync } from 'node:fs'
import { IngestPipeline, Key, t } from 'flowhouse'
appendFileSync(${JSON.stringify(loads)}, 'loaded\\n')
export const counted = new IngestPipeline('counted', { schema: t.Object({ id: Key(t.String()) }), table: false })
`,
  )
  const broken = path.join(dir, 'broken.ts')
  await writeFile(broken, `throw new Error('module top level throws')\n`)
  const pool = new TransformPool(2)
  try {
    await pool.prepare({ file: counted, version: '1', stream: 'counted' })
    const { readFile } = await import('node:fs/promises')
    assert.equal(await readFile(loads, 'utf8'), 'loaded\nloaded\n', 'one load per thread')
    const r = await pool.run({ file: counted, version: '1', stream: 'counted', value: bytes([{ id: 'a' }]) })
    assert.equal(r.records, 1)
    assert.equal(await readFile(loads, 'utf8'), 'loaded\nloaded\n', 'a message after prepare loads nothing more')
    await pool.prepare({ file: broken, version: '1', stream: 'broken' })
    await assert.rejects(pool.run({ file: broken, version: '1', stream: 'broken', value: bytes([{ id: 'a' }]) }), /module top level throws/)
  } finally {
    await pool.close()
  }
})
