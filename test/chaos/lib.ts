/**
 * Chaos harness: daemons watched for unexpected exits, faults on the local broker and ClickHouse
 * server (kill -9, restart through scripts/services.sh), and the oracle.
 *
 * Oracle: the rows replayed are the first N flights of the parquet file in file order
 * (`input_format_parquet_preserve_order=1`, ids = row numbers); ClickHouse's own aggregate over
 * them gives the expected count, and the written table gives `written = count()` and
 * `distinct = uniqExact(id)`: loss = expected − distinct, dup = written − distinct.
 *
 * Every wait is bounded: a scenario that makes no progress reports `stalled=yes` and stops.
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { flightsSource, kafka, removeDir, resetKafka, ROOT, sql, startDaemon, tempDir, truth, type DaemonProcess } from '../integration/helpers.ts'

const run = promisify(execFile)

export const PIPELINES_DIR = path.join(ROOT, 'pipelines')
export const TOPIC = 'flights'
export const DLQ_TOPIC = 'flights.dlq'
export const GROUP = 'flowhouse.flights'
export const CLICKHOUSE_URL = process.env.CLICKHOUSE_TEST_URL || 'http://127.0.0.1:8123'

/** One line of the report. */
export interface ScenarioResult {
  scenario: string
  runs: number
  loss: number
  dup: number
  dlq: number
  stalled: boolean
  crash: boolean
  /** Dead-letter entries the scenario must produce at least (a poison message on each partition). */
  dlqExpected?: number
  /** Extra figures (recovery times, exit codes), printed after the standard fields. */
  notes?: string[]
}

export function formatResult(r: ScenarioResult): string {
  const base = `scenario=${r.scenario} runs=${r.runs} loss=${r.loss} dup=${r.dup} dlq=${r.dlq} stalled=${r.stalled ? 'yes' : 'no'} crash=${r.crash ? 'yes' : 'no'}`
  return r.notes?.length ? `${base} ${r.notes.join(' ')}` : base
}

/** Sums results of several runs of one scenario. */
export function combine(scenario: string, results: ScenarioResult[]): ScenarioResult {
  return {
    scenario,
    runs: results.length,
    loss: results.reduce((s, r) => s + r.loss, 0),
    dup: results.reduce((s, r) => s + r.dup, 0),
    dlq: results.reduce((s, r) => s + r.dlq, 0),
    stalled: results.some((r) => r.stalled),
    crash: results.some((r) => r.crash),
    notes: results.flatMap((r) => r.notes ?? []),
  }
}

/** Polls until `check` is truthy or `timeoutMs` passed. @returns false on timeout (never throws for a failing check). */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (await check()) return true
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Daemons started by a scenario; an exit nobody asked for counts as a crash. */
export class Fleet {
  crashed = false
  readonly notes: string[] = []
  private readonly live = new Set<DaemonProcess>()
  private readonly expected = new WeakSet<DaemonProcess>()

  constructor(private readonly env: Record<string, string>) {}

  async start(dataDir: string, extra: Record<string, string> = {}): Promise<DaemonProcess> {
    const d = await startDaemon({ pipelinesDir: PIPELINES_DIR, dataDir, env: { FLOWHOUSE_LOG_LEVEL: 'warn', ...this.env, ...extra }, waitReady: false })
    this.live.add(d)
    d.child.once('exit', (code, signal) => {
      this.live.delete(d)
      if (!this.expected.has(d)) {
        this.crashed = true
        this.notes.push(`unexpected_exit=${code ?? signal}`)
      }
    })
    return d
  }

  /** kill -9: the exit is expected. */
  async kill9(d: DaemonProcess): Promise<void> {
    this.expected.add(d)
    await d.kill('SIGKILL')
  }

  /** SIGTERM with a bound: anything but exit 0 within 30 s is a crash (a hung stop is killed). */
  async term(d: DaemonProcess): Promise<void> {
    this.expected.add(d)
    const stopped = d.kill('SIGTERM')
    const inTime = await Promise.race([stopped.then(() => true), sleep(30_000).then(() => false)])
    if (!inTime) {
      this.crashed = true
      this.notes.push('sigterm_hung=yes')
      await d.kill('SIGKILL')
      return
    }
    if (d.child.exitCode !== 0) {
      this.crashed = true
      this.notes.push(`sigterm_exit=${d.child.exitCode ?? d.child.signalCode}`)
    }
  }

  /** Stops whatever is still running (SIGTERM, judged like term). */
  async stopAll(): Promise<void> {
    for (const d of [...this.live]) await this.term(d)
  }
}

/** Fresh topics and group, and a fresh data folder. */
export async function freshStart(prefix: string): Promise<string> {
  await resetKafka([TOPIC, DLQ_TOPIC], [GROUP])
  return tempDir(`chaos-${prefix}`)
}

export async function cleanup(dir: string | undefined): Promise<void> {
  if (dir) await removeDir(dir).catch(() => undefined)
}

/** Rows written so far, read through the daemon (embedded) or from the server (a database). */
export interface Counter {
  (): Promise<{ written: number; distinct: number }>
}

export function daemonCounter(get: () => DaemonProcess, where = '1'): Counter {
  return async () => {
    const [r] = await sql<{ n: string; d: string }>(get().url, `SELECT count() AS n, uniqExact(id) AS d FROM flights WHERE ${where}`)
    return { written: Number(r!.n), distinct: Number(r!.d) }
  }
}

export async function serverQuery(query: string): Promise<string> {
  const res = await fetch(CLICKHOUSE_URL, { method: 'POST', body: query, signal: AbortSignal.timeout(10_000) })
  const text = await res.text()
  if (!res.ok) throw new Error(`ClickHouse server: ${text}`)
  return text
}

export function serverCounter(database: string): Counter {
  return async () => {
    const [n, d] = (await serverQuery(`SELECT count(), uniqExact(id) FROM ${database}.flights FORMAT TSV`)).trim().split('\t')
    return { written: Number(n), distinct: Number(d) }
  }
}

/** Expected rows: ClickHouse's own count over the first `n` parquet rows in file order. */
export async function expectedRows(n: number, skip = 0): Promise<number> {
  const [row] = await truth<{ n: string }>(`SELECT count() AS n FROM ${flightsSource(n, skip)}`)
  return Number(row!.n)
}

/** Waits (bounded) for `expected` distinct rows, then lets late duplicates surface and judges. */
export async function judge(count: Counter, expected: number, timeoutMs: number): Promise<{ loss: number; dup: number; stalled: boolean }> {
  const reached = await until(async () => (await count()).distinct >= expected, timeoutMs, 250)
  if (reached) await sleep(2_000)
  const { written, distinct } = await count().catch(() => ({ written: 0, distinct: 0 }))
  return { loss: expected - distinct, dup: written - distinct, stalled: !reached }
}

/** Messages in the dead-letter topic (sum over partitions of high − low watermark). */
export async function dlqCount(): Promise<number> {
  const admin = kafka().admin()
  await admin.connect()
  try {
    if (!(await admin.listTopics()).includes(DLQ_TOPIC)) return 0
    const offsets = await admin.fetchTopicOffsets(DLQ_TOPIC)
    return offsets.reduce((s, p) => s + Number(p.high) - Number(p.low), 0)
  } finally {
    await admin.disconnect()
  }
}

/** True when the group has committed every partition of the topic up to its end (nothing left behind). */
export async function committedToEnd(): Promise<boolean> {
  const admin = kafka().admin()
  await admin.connect()
  try {
    const ends = await admin.fetchTopicOffsets(TOPIC)
    const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] })
    return ends.every((e) => Number(committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1) >= Number(e.high))
  } finally {
    await admin.disconnect()
  }
}

// --- service faults (callers hold /tmp/flowhouse-it.lock) -------------------------------------

async function pidOf(service: 'kafka' | 'clickhouse'): Promise<number> {
  return Number((await readFile(path.join(ROOT, '.services', service, 'pid'), 'utf8')).trim())
}

/** kill -9 of the local broker or ClickHouse server (the pid its script recorded). */
export async function killService(service: 'kafka' | 'clickhouse'): Promise<void> {
  const pid = await pidOf(service)
  process.kill(pid, 'SIGKILL')
  await until(() => {
    try {
      process.kill(pid, 0)
      return false
    } catch {
      return true
    }
  }, 30_000, 100)
}

/** Starts a service again through scripts/services.sh (idempotent; waits for its port). */
export async function startService(service: 'kafka' | 'clickhouse' | 'all'): Promise<void> {
  await run('bash', [path.join(ROOT, 'scripts/services.sh'), 'up', service], { cwd: ROOT, timeout: 180_000 })
}
