/**
 * Shared helpers of the integration tests: a daemon child process on a free port with its own
 * embedded ClickHouse folder, condition waits, Kafka resets, and an independent ClickHouse
 * (embedded, in the test process) for ground truth over the source files.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import { setting } from '../../src/util/environment.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const FLIGHTS_PARQUET = path.join(ROOT, 'node_modules/vega-datasets/data/flights-3m.parquet')
export const BROKERS = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',')
/** The local schema registry's Confluent API (SCHEMA_REGISTRY_URL, default as in src/util/environment.ts). */
export const REGISTRY = setting('SCHEMA_REGISTRY_URL')

/** A fresh folder inside the project (so pipeline modules can import 'flowhouse'). */
export async function tempDir(prefix: string): Promise<string> {
  const base = path.join(ROOT, '.data', 'test')
  await mkdir(base, { recursive: true })
  return mkdtemp(path.join(base, `${prefix}-`))
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Polls `check` until it returns a truthy value; throws with the last value after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T> | T, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 60_000, intervalMs = 250, what = 'condition' } = options
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      last = await check()
      if (last) return last as NonNullable<T>
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

export interface DaemonProcess {
  url: string
  child: ChildProcess
  /** Everything the daemon printed. */
  output(): string
  /** Sends a signal and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
}

/**
 * Starts `flowhouse start` as a child process and waits for it to answer /health.
 * @param env extra environment (e.g. CLICKHOUSE_URL, FLOWHOUSE_BATCH_FLUSH_MS).
 */
/** `nodeArgs`: options for node itself, before the script (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
export async function startDaemon(options: { pipelinesDir: string; dataDir: string; env?: Record<string, string>; waitReady?: boolean; nodeArgs?: string[] }): Promise<DaemonProcess> {
  const port = await freePort()
  let output = ''
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(ROOT, 'bin/flowhouse.js'), 'start', '--pipelines', options.pipelinesDir, '--port', String(port)], {
    cwd: ROOT,
    env: { ...process.env, FLOWHOUSE_DATA_DIR: options.dataDir, FLOWHOUSE_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const daemon: DaemonProcess = {
    url,
    child,
    output: () => output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
  }
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}:\n${output}`)
        const res = await fetch(`${url}/${options.waitReady === false ? 'health' : 'ready'}`)
        return res.ok
      },
      { timeoutMs: 90_000, what: 'the daemon to become ready' },
    )
  } catch (error) {
    await daemon.kill('SIGKILL')
    throw new Error(`${(error as Error).message}\n--- daemon output ---\n${output.slice(-4000)}`)
  }
  return daemon
}

/** Runs a read-only query through the daemon's /api/sql. */
export async function sql<T = Record<string, unknown>>(url: string, query: string): Promise<T[]> {
  const res = await fetch(`${url}/api/sql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })
  const body = (await res.json()) as { rows?: T[]; error?: string }
  if (!res.ok) throw new Error(`SQL failed (${res.status}): ${body.error}\n${query}`)
  return body.rows!
}

/**
 * Reads the daemon's /metrics and returns the sum of a metric's samples matching `labels`.
 * @throws when the daemon does not declare the metric at all (a renamed or removed metric is not 0);
 *   a declared metric without a matching sample is 0.
 */
export async function metricValue(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const family = name.replace(/_(bucket|sum|count)$/, '')
  if (!text.includes(`# TYPE ${name} `) && !text.includes(`# TYPE ${family} `)) throw new Error(`metric ${name} is not exposed by ${url}/metrics`)
  let total = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? ([^ ]+)/.exec(line)
    if (!m || m[1] !== name) continue
    const got = Object.fromEntries([...(m[3] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]))
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) total += Number(m[4])
  }
  return total
}

export function kafka(): Kafka {
  return new Kafka({ clientId: 'flowhouse-test', brokers: BROKERS, logLevel: logLevel.NOTHING })
}

/** Deletes topics and consumer groups left by an earlier run, so a test starts clean. */
export async function resetKafka(topics: string[], groups: string[]): Promise<void> {
  const admin = kafka().admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    const doomed = topics.filter((t) => existing.has(t))
    if (doomed.length > 0) {
      await admin.deleteTopics({ topics: doomed, timeout: 30_000 })
      await waitFor(async () => {
        const now = new Set(await admin.listTopics())
        return doomed.every((t) => !now.has(t))
      }, { what: 'topics to be deleted' })
    }
    const listed = new Set((await admin.listGroups()).groups.map((g) => g.groupId))
    const groupsToDelete = groups.filter((g) => listed.has(g))
    if (groupsToDelete.length > 0) await admin.deleteGroups(groupsToDelete).catch(() => undefined)
  } finally {
    await admin.disconnect()
  }
}

/** Consumes every message currently in `topic` (all partitions) and returns the values as text. */
export async function readTopic(topic: string, expected: number, timeoutMs = 30_000): Promise<Array<{ key: string | null; value: string; partition: number; offset: string }>> {
  const consumer = kafka().consumer({ groupId: `flowhouse-test-reader-${process.pid}-${Date.now()}` })
  const out: Array<{ key: string | null; value: string; partition: number; offset: string }> = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      out.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', partition, offset: message.offset })
    },
  })
  try {
    await waitFor(() => out.length >= expected, { timeoutMs, what: `${expected} messages on ${topic}` })
    await new Promise((r) => setTimeout(r, 500))
  } finally {
    await consumer.disconnect()
  }
  return out
}

/** Runs `flowhouse replay` as a child process; resolves with its exit code and output. */
export function runReplay(args: string[], env: Record<string, string> = {}): { done: Promise<{ code: number | null; output: string }>; child: ChildProcess } {
  let output = ''
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), 'replay', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.once('exit', (code) => resolve({ code, output })))
  return { done, child }
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}

/**
 * Ground truth: runs `sql` in an embedded ClickHouse inside the test process (stateless, no
 * data folder), independent of the daemon. Use `file('<path>')` to read source files.
 */
export async function truth<T = Record<string, unknown>>(query: string): Promise<T[]> {
  const { query: chdbQuery } = await import('chdb')
  const text = chdbQuery(query, 'JSONEachRow')
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T)
}

/** `file(...)` expression selecting the first `limit` flights of the parquet in file order, with their row number as `id`. */
export function flightsSource(limit: number, skip = 0): string {
  return `(SELECT toString(rowNumberInAllBlocks() + ${skip}) AS id, * FROM (SELECT * FROM file('${FLIGHTS_PARQUET}', Parquet) LIMIT ${limit} OFFSET ${skip} SETTINGS max_threads = 1, input_format_parquet_preserve_order = 1))`
}
