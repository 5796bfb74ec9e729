/**
 * flowhouse as a package in a user's project: `npm pack`, an install of the tarball into an
 * empty folder outside the checkout, then `npx flowhouse init | check | start` there, with a
 * pipeline that imports 'flowhouse' and ingests into the embedded ClickHouse over the real broker.
 * Also: a pipelines folder with no package.json above it, and one with {"type":"module"} and no
 * flowhouse installed, both load with the daemon's own copy of flowhouse. And `npx flowhouse dev`
 * in the new project replays real flights into the example pipeline that init created.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { BROKERS, ROOT, flightsSource, freePort, sql, truth, waitFor } from './helpers.ts'

const run = promisify(execFile)
const SUFFIX = Math.random().toString(36).slice(2, 8)
const PIPELINE = `pkg_orders_${SUFFIX}`
let work: string
let project: string
let tarball: string

const MODULE = `import { IngestPipeline, Key, t, type Static } from 'flowhouse'

export const Order = t.Object({
  id: Key(t.String()),
  'unit price': t.Number(),
  note: t.Optional(t.String()),
})
export type Order = Static<typeof Order>

export const orders = new IngestPipeline('${PIPELINE}', { schema: Order })
`

/** Runs the installed command in `cwd` (npx resolves node_modules/.bin/flowhouse). */
async function npx(cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['--no-install', 'flowhouse', ...args], { cwd, env: { ...process.env, ...env }, timeout: 120_000 })
    return { code: 0, output: stdout + stderr }
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'flowhouse-package-'))
  const { stdout } = await run('npm', ['pack', '--pack-destination', work, '--json'], { cwd: ROOT, timeout: 120_000 })
  tarball = path.join(work, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename)
  // An empty folder: install the tarball, then let the installed command create the project.
  const installer = path.join(work, 'installer')
  await mkdir(installer)
  await writeFile(path.join(installer, 'package.json'), '{"name":"installer","private":true}\n')
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: installer, timeout: 300_000 })
  const init = await npx(installer, ['init', path.join(work, 'app'), '--flowhouse', `file:${tarball}`])
  assert.equal(init.code, 0, init.output)
  project = path.join(work, 'app')
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project, timeout: 300_000 })
  await writeFile(path.join(project, 'pipelines', 'orders.ts'), MODULE)
})

after(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

test('npm pack publishes the command, the sources and the docs, and no tests', async () => {
  const { stdout } = await run('tar', ['-tzf', tarball])
  const files = stdout.split('\n').filter(Boolean)
  for (const file of ['package/bin/flowhouse.js', 'package/src/index.ts', 'package/src/util/module-hooks.mjs', 'package/pipelines/flights.ts', 'package/README.md', 'package/Dockerfile']) {
    assert.ok(files.includes(file), `${file} is in the tarball`)
  }
  assert.deepEqual(files.filter((f) => /^package\/(test|bench|\.data|\.services|node_modules)\//.test(f)), [])
})

test('flowhouse init creates package.json depending on flowhouse, tsconfig.json, the example pipeline, docker-compose.yml and a README', async () => {
  const pkg = JSON.parse(await readFile(path.join(project, 'package.json'), 'utf8')) as { type: string; dependencies: Record<string, string> }
  assert.deepEqual(pkg.dependencies, { flowhouse: `file:${tarball}` })
  assert.equal(pkg.type, 'module')
  assert.match(await readFile(path.join(project, 'pipelines', 'flights.ts'), 'utf8'), /from 'flowhouse'/)
  assert.match(await readFile(path.join(project, 'docker-compose.yml'), 'utf8'), /\.\/pipelines:\/pipelines:ro/)
  assert.match(await readFile(path.join(project, 'README.md'), 'utf8'), /npm install\nnpx flowhouse dev/)
  const again = await npx(project, ['init', project])
  assert.equal(again.code, 1)
  assert.match(again.output, /already has package\.json, tsconfig\.json/)
})

test("npx flowhouse check in the project loads modules that import 'flowhouse'", async () => {
  const check = await npx(project, ['check'])
  assert.equal(check.code, 0, check.output)
  assert.match(check.output, /✓ .*orders\.ts: 1 pipelines, 1 streams, 1 tables, 0 views/)
  assert.match(check.output, /✓ .*flights\.ts: 1 pipelines, 1 streams, 1 tables, 2 views/)
})

test('a pipelines folder with no package.json above it, or with {"type":"module"} and no flowhouse installed, loads with the daemon\'s own flowhouse', async () => {
  for (const marker of [undefined, '{"type":"module"}\n']) {
    const dir = await mkdtemp(path.join(work, 'bare-'))
    if (marker) await writeFile(path.join(dir, 'package.json'), marker)
    await mkdir(path.join(dir, 'pipelines'))
    await writeFile(path.join(dir, 'pipelines', 'orders.ts'), MODULE)
    const check = await npx(project, ['check', '--pipelines', path.join(dir, 'pipelines')])
    assert.equal(check.code, 0, check.output)
    assert.match(check.output, /✓ .*orders\.ts: 1 pipelines/)
  }
})

test('npx flowhouse start in the project ingests into ClickHouse through the real broker', { timeout: 240_000 }, async () => {
  const port = await freePort()
  const env: Record<string, string> = { ...(process.env as Record<string, string>), FLOWHOUSE_DATA_DIR: path.join(work, 'data'), KAFKA_BROKERS: BROKERS.join(','), FLOWHOUSE_LOG_LEVEL: 'warn' }
  delete env.CLICKHOUSE_URL
  // Only this test's module: the example flights pipeline would claim the shared `flights` topic.
  const pipelines = path.join(work, 'only-orders')
  await mkdir(pipelines)
  await writeFile(path.join(pipelines, 'orders.ts'), MODULE)
  let output = ''
  const child = spawn(path.join(project, 'node_modules/.bin/flowhouse'), ['start', '--pipelines', pipelines, '--port', String(port)], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const url = `http://127.0.0.1:${port}`
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`daemon exited:\n${output}`)
      return (await fetch(`${url}/ready`)).ok
    }, { timeoutMs: 120_000, what: 'the daemon in the project to become ready' })
    const records = [
      { id: 'a', 'unit price': 2.5, note: 'first' },
      { id: 'b', 'unit price': 4, note: null },
      { id: 'c', 'unit price': 1.25 },
    ]
    const res = await fetch(`${url}/ingest/${PIPELINE}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) })
    assert.equal(res.status, 200, await res.text())
    const rows = await waitFor(async () => {
      const got = await sql<{ n: string; total: number; notes: string }>(url, `SELECT count() AS n, sum(\`unit price\`) AS total, countIf(note IS NULL) AS notes FROM ${PIPELINE}`)
      return Number(got[0]?.n) === 3 ? got[0] : undefined
    }, { timeoutMs: 60_000, what: 'the three orders in ClickHouse' })
    assert.equal(rows.total, 7.75)
    assert.equal(Number(rows.notes), 2, 'a null and a missing note are both NULL')
  } finally {
    child.kill('SIGTERM')
    await exited
  }
})

test('npx flowhouse dev in the project replays real flights into the example pipeline and prints the view, equal to the parquet aggregate', { timeout: 300_000 }, async () => {
  const LIMIT = 20_000
  const env: Record<string, string> = { KAFKA_BROKERS: BROKERS.join(','), FLOWHOUSE_LOG_LEVEL: 'warn' }
  const dev = await npx(project, ['dev', '--limit', String(LIMIT), '--exit'], env)
  assert.equal(dev.code, 0, dev.output)
  assert.match(dev.output, /▶ 20,000 flights in ClickHouse after/, dev.output)
  // The sample query's table: origin, total_flights, ... for the ten busiest origins.
  const table = dev.output.slice(dev.output.indexOf('origin  '))
  const printed = table
    .split('\n')
    .slice(2, 12)
    .map((line) => line.trim().split(/\s{2,}/))
    .map(([origin, total]) => [origin, Number(total)] as const)
  assert.equal(printed.length, 10, table)
  const expected = await truth<{ origin: string; n: string }>(`SELECT origin, count() AS n FROM ${flightsSource(LIMIT)} GROUP BY origin`)
  const byOrigin = new Map(expected.map((r) => [r.origin, Number(r.n)]))
  for (const [origin, total] of printed) assert.equal(total, byOrigin.get(origin!), `flights from ${origin}`)
  const busiest = Math.max(...byOrigin.values())
  assert.equal(printed[0]![1], busiest, 'the first row is the busiest origin of the file')
})
