/**
 * Chaos scenarios against the local broker and ClickHouse server, each bounded in time and
 * judged by the oracle in lib.ts. The caller holds /tmp/flowhouse-it.lock: faults on the shared
 * services are only injected under it, and the services are running again when a scenario ends.
 */
import { randomBytes } from 'node:crypto'
import { FLIGHTS_PARQUET, kafka, runReplay, type DaemonProcess } from '../integration/helpers.ts'
import {
  cleanup, combine, committedToEnd, daemonCounter, dlqCount, expectedRows, Fleet, freshStart, judge, killService, serverCounter, serverQuery,
  sleep, startService, TOPIC, until, CLICKHOUSE_URL, type ScenarioResult,
} from './lib.ts'

/** Small batches so that many batches are open around each fault. */
const ENV = { FLOWHOUSE_BATCH_MAX_ROWS: '5000', FLOWHOUSE_BATCH_FLUSH_MS: '300' }
const REPLAY_TIMEOUT_MS = 180_000
const WRITE_TIMEOUT_MS = 180_000

export interface Sizes {
  /** Flights replayed per run. */
  rows: number
  /** Replay rate, records per second. */
  rate: number
}

function replay(rows: number, rate: number, skip = 0) {
  const r = runReplay([FLIGHTS_PARQUET, '--pipeline', 'flights', '--limit', String(rows), '--skip', String(skip), '--rate', String(rate)])
  return {
    child: r.child,
    /** Resolves true when the replay exited 0 within the bound. */
    done: Promise.race([r.done.then((x) => x.code === 0), sleep(REPLAY_TIMEOUT_MS).then(() => (r.child.kill('SIGKILL'), false))]),
  }
}

async function ready(d: DaemonProcess, timeoutMs = 60_000): Promise<boolean> {
  return until(async () => (await fetch(`${d.url}/ready`)).ok, timeoutMs, 200)
}

/**
 * kill -9 once `pct` % of the rows are written, restart on the same data, judge.
 * With `negativeControl`, a daemon on a fresh data folder is started afterwards on the same
 * group: the committed offsets skip what the old folder holds, so the oracle must report loss.
 */
export async function killRun(pct: number, size: Sizes, negativeControl = false): Promise<{ run: ScenarioResult; control?: ScenarioResult }> {
  const dir = await freshStart(`kill${pct}`)
  const fleet = new Fleet(ENV)
  const notes: string[] = []
  let control: ScenarioResult | undefined
  try {
    let d = await fleet.start(dir)
    const count = daemonCounter(() => d)
    const r = replay(size.rows, size.rate)
    const hit = await until(async () => (await count()).written >= (size.rows * pct) / 100, WRITE_TIMEOUT_MS, 50)
    const at = (await count().catch(() => ({ written: -1 }))).written
    await fleet.kill9(d)
    const killedAt = Date.now()
    d = await fleet.start(dir)
    notes.push(`killed_at_rows=${at}`, `restart_ms=${Date.now() - killedAt}`)
    const replayed = await r.done
    const j = await judge(count, await expectedRows(size.rows), WRITE_TIMEOUT_MS)
    const run: ScenarioResult = { scenario: `kill9-${pct}`, runs: 1, ...j, stalled: j.stalled || !hit || !replayed, dlq: await dlqCount(), crash: false, notes }
    if (negativeControl) {
      await fleet.term(d)
      const fresh = await freshDir(`control${pct}`)
      d = await fleet.start(fresh)
      const jc = await judge(count, await expectedRows(size.rows), 15_000)
      control = { scenario: 'negative-control-fresh-data-folder', runs: 1, ...jc, dlq: await dlqCount(), crash: fleet.crashed, notes: [`expected=${size.rows}`] }
      await fleet.term(d)
      await cleanup(fresh)
    }
    await fleet.stopAll()
    run.crash = fleet.crashed
    run.notes!.push(...fleet.notes)
    return { run, ...(control ? { control } : {}) }
  } finally {
    await fleet.stopAll().catch(() => undefined)
    await cleanup(dir)
  }
}

async function freshDir(prefix: string): Promise<string> {
  const { tempDir } = await import('../integration/helpers.ts')
  return tempDir(`chaos-${prefix}`)
}

/** SIGTERM at half the rows (drain, flush, commit, leave, exit 0), restart, judge. */
export async function sigtermRun(size: Sizes): Promise<ScenarioResult> {
  const dir = await freshStart('sigterm')
  const fleet = new Fleet(ENV)
  try {
    let d = await fleet.start(dir)
    const count = daemonCounter(() => d)
    const r = replay(size.rows, size.rate)
    const hit = await until(async () => (await count()).written >= size.rows / 2, WRITE_TIMEOUT_MS, 50)
    await fleet.term(d)
    const notes = [`sigterm_exit=${d.child.exitCode ?? d.child.signalCode}`]
    d = await fleet.start(dir)
    const replayed = await r.done
    const j = await judge(count, await expectedRows(size.rows), WRITE_TIMEOUT_MS)
    await fleet.stopAll()
    return { scenario: 'sigterm-mid-stream', runs: 1, ...j, stalled: j.stalled || !hit || !replayed, dlq: await dlqCount(), crash: fleet.crashed, notes: [...notes, ...fleet.notes] }
  } finally {
    await fleet.stopAll().catch(() => undefined)
    await cleanup(dir)
  }
}

async function brokerAnswers(): Promise<boolean> {
  const admin = kafka().admin()
  try {
    await admin.connect()
    return (await admin.listTopics()).includes(TOPIC)
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/** kill -9 of the broker with the daemon running; the broker comes back 5 s later; the second half is replayed after. */
export async function brokerKillRun(size: Sizes): Promise<ScenarioResult> {
  const dir = await freshStart('broker')
  const fleet = new Fleet(ENV)
  const half = Math.floor(size.rows / 2)
  try {
    const d = await fleet.start(dir)
    const count = daemonCounter(() => d)
    const first = await replay(half, size.rate).done
    const hit = await until(async () => (await count()).written >= half / 2, WRITE_TIMEOUT_MS, 50)
    const t0 = Date.now()
    try {
      await killService('kafka')
      await sleep(5_000)
    } finally {
      await startService('kafka')
    }
    await until(brokerAnswers, 120_000, 500)
    const notes = [`broker_down_ms=${Date.now() - t0}`]
    const second = await replay(size.rows - half, size.rate, half).done
    const j = await judge(count, await expectedRows(size.rows), WRITE_TIMEOUT_MS)
    const dlq = await dlqCount()
    await fleet.stopAll()
    return { scenario: 'broker-kill9', runs: 1, ...j, stalled: j.stalled || !hit || !first || !second, dlq, crash: fleet.crashed, notes: [...notes, ...fleet.notes] }
  } finally {
    await fleet.stopAll().catch(() => undefined)
    await startService('kafka').catch(() => undefined)
    await cleanup(dir)
  }
}

function serverEnv(database: string): Record<string, string> {
  return { ...ENV, CLICKHOUSE_URL, CLICKHOUSE_DATABASE: database }
}

/** Server mode: kill -9 of clickhouse-server for 60 s while rows keep arriving; then it is started again. */
export async function clickhouseKillRun(size: Sizes): Promise<ScenarioResult> {
  const dir = await freshStart('chkill')
  const database = `fh_chaos_${randomBytes(4).toString('hex')}`
  const fleet = new Fleet(serverEnv(database))
  const half = Math.floor(size.rows / 2)
  const count = serverCounter(database)
  try {
    await fleet.start(dir)
    const first = await replay(half, size.rate).done
    const hit = await until(async () => (await count()).written >= half / 2, WRITE_TIMEOUT_MS, 50)
    try {
      await killService('clickhouse')
      const second = replay(size.rows - half, size.rate, half)
      await sleep(60_000)
      await startService('clickhouse')
      const replayed = await second.done
      const j = await judge(count, await expectedRows(size.rows), WRITE_TIMEOUT_MS)
      const dlq = await dlqCount()
      await fleet.stopAll()
      return { scenario: 'clickhouse-kill9-60s', runs: 1, ...j, stalled: j.stalled || !hit || !first || !replayed, dlq, crash: fleet.crashed, notes: fleet.notes }
    } finally {
      await startService('clickhouse')
    }
  } finally {
    await fleet.stopAll().catch(() => undefined)
    await serverQuery(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined)
    await cleanup(dir)
  }
}

/** Server mode: a second daemon joins mid-stream (rebalance), then the first is killed with kill -9. */
export async function twoDaemonsRun(size: Sizes): Promise<ScenarioResult> {
  const dirA = await freshStart('two-a')
  const dirB = await freshDir('two-b')
  const database = `fh_chaos_${randomBytes(4).toString('hex')}`
  const fleet = new Fleet(serverEnv(database))
  const count = serverCounter(database)
  try {
    const a = await fleet.start(dirA)
    const r = replay(size.rows, size.rate)
    const hitA = await until(async () => (await count()).written >= size.rows * 0.2, WRITE_TIMEOUT_MS, 50)
    await fleet.start(dirB)
    const hitB = await until(async () => (await count()).written >= size.rows * 0.5, WRITE_TIMEOUT_MS, 50)
    await fleet.kill9(a)
    const replayed = await r.done
    const j = await judge(count, await expectedRows(size.rows), WRITE_TIMEOUT_MS)
    const dlq = await dlqCount()
    await fleet.stopAll()
    return { scenario: 'two-daemons-rebalance-kill9', runs: 1, ...j, stalled: j.stalled || !hitA || !hitB || !replayed, dlq, crash: fleet.crashed, notes: fleet.notes }
  } finally {
    await fleet.stopAll().catch(() => undefined)
    await serverQuery(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined)
    await cleanup(dirA)
    await cleanup(dirB)
  }
}

const MB5 = 5 * 1024 * 1024

/** Poison messages from the field report (and a few more), each a Kafka message value. */
export const POISONS: Record<string, () => Buffer | null> = {
  'deep-objects-10000': () => Buffer.from(`[${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}]`),
  'deep-arrays-10000': () => Buffer.from(`${'['.repeat(10_000)}${']'.repeat(10_000)}`),
  'invalid-records-100000': () => Buffer.from(`[${Array(100_000).fill('{}').join(',')}]`),
  'control-bytes-5mb': () => Buffer.alloc(MB5, 0x01),
  'record-5mb': () => Buffer.from(`[{"id":"poison-big","date":"2001-01-01T00:00:00Z","delay":1,"distance":1,"origin":"${'A'.repeat(MB5)}","destination":"BBB"}]`),
  'invalid-utf8': () => Buffer.concat([Buffer.from('[{"id":"poison-utf8","origin":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}]')]),
  'null-value': () => null,
  'empty-value': () => Buffer.alloc(0),
}

async function partitionCount(): Promise<number> {
  const admin = kafka().admin()
  await admin.connect()
  try {
    return (await admin.fetchTopicMetadata({ topics: [TOPIC] })).topics[0]!.partitions.length
  } finally {
    await admin.disconnect()
  }
}

const PROBES = 100
/** Valid rows sent after a poison message must be written within this long (issue contract). */
const PROBE_TIMEOUT_MS = 60_000

function probeMessage(kind: string): Buffer {
  const records = Array.from({ length: PROBES }, (_, i) => ({ id: `probe-${kind}-${i}`, date: '2001-01-01T00:00:00Z', delay: i, distance: 100, origin: 'AAA', destination: 'BBB' }))
  return Buffer.from(JSON.stringify(records))
}

/** One poison message on each partition, then valid probe rows on each: the probes must be written within 60 s. */
export async function poisonRun(kind: string): Promise<ScenarioResult> {
  const dir = await freshStart(`poison-${kind}`)
  const fleet = new Fleet(ENV)
  const producer = kafka().producer({ allowAutoTopicCreation: false })
  try {
    const d = await fleet.start(dir)
    await ready(d)
    await producer.connect()
    const partitions = await partitionCount()
    for (let p = 0; p < partitions; p++) await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition: p, value: POISONS[kind]!() }] })
    // The probes: PROBES rows per partition, ids distinct across partitions.
    for (let p = 0; p < partitions; p++) await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition: p, value: probeMessage(`${kind}-p${p}`) }] })
    const sentAt = Date.now()
    const count = daemonCounter(() => d, "startsWith(id, 'probe-')")
    const j = await judge(count, PROBES * partitions, PROBE_TIMEOUT_MS)
    // Written is not enough: the poison's partition must also commit past it (not retry for ever).
    const committed = await until(committedToEnd, Math.max(1_000, PROBE_TIMEOUT_MS - (Date.now() - sentAt)), 500)
    const dlq = await dlqCount()
    await fleet.stopAll()
    const notes = [`committed=${committed ? 'yes' : 'no'}`, ...fleet.notes]
    return { scenario: `poison-${kind}`, runs: 1, ...j, stalled: j.stalled || !committed, dlq, dlqExpected: partitions, crash: fleet.crashed, notes }
  } finally {
    await producer.disconnect().catch(() => undefined)
    await fleet.stopAll().catch(() => undefined)
    await cleanup(dir)
  }
}

/** A scenario of the suite: its name and a run that yields one or more result lines. */
export interface Scenario {
  name: string
  run: () => Promise<ScenarioResult[]>
}

const poisonScenarios = (): Scenario[] => Object.keys(POISONS).map((kind) => ({ name: `poison-${kind}`, run: async () => [await poisonRun(kind)] }))

/** The short subset (CI): one kill -9 with the negative control, one SIGTERM, every poison message. */
export function shortSuite(): Scenario[] {
  const size = { rows: 50_000, rate: 25_000 }
  return [
    { name: 'kill9-50', run: async () => { const { run, control } = await killRun(50, size, true); return control ? [run, control] : [run] } },
    { name: 'sigterm-mid-stream', run: async () => [await sigtermRun(size)] },
    ...poisonScenarios(),
  ]
}

/** The whole suite. */
export function fullSuite(): Scenario[] {
  const size = { rows: 100_000, rate: 20_000 }
  const kills = [10, 50, 90].map((pct): Scenario => ({
    name: `kill9-${pct}`,
    run: async () => {
      const runs: ScenarioResult[] = []
      let control: ScenarioResult | undefined
      for (let i = 0; i < 2; i++) {
        const r = await killRun(pct, size, pct === 50 && i === 1)
        runs.push(r.run)
        control ??= r.control
      }
      return control ? [combine(`kill9-${pct}`, runs), control] : [combine(`kill9-${pct}`, runs)]
    },
  }))
  return [
    ...kills,
    { name: 'sigterm-mid-stream', run: async () => [await sigtermRun(size)] },
    { name: 'broker-kill9', run: async () => [await brokerKillRun(size)] },
    { name: 'clickhouse-kill9-60s', run: async () => [await clickhouseKillRun(size)] },
    { name: 'two-daemons-rebalance-kill9', run: async () => [await twoDaemonsRun(size)] },
    ...poisonScenarios(),
  ]
}

/** Runs scenarios one after the other; a scenario that throws is reported as a failed line and the next one runs. */
export async function* runScenarios(scenarios: Scenario[]): AsyncGenerator<ScenarioResult> {
  for (const s of scenarios) {
    try {
      yield* await s.run()
    } catch (error) {
      const text = error instanceof Error ? error.message.split('\n')[0]! : String(error)
      yield { scenario: s.name, runs: 0, loss: 0, dup: 0, dlq: 0, stalled: true, crash: false, notes: [`error=${JSON.stringify(text.slice(0, 200))}`] }
    }
  }
}

/** True when a result is what the suite promises (the negative control must show loss or dup). */
export function passes(r: ScenarioResult): boolean {
  if (r.scenario.startsWith('negative-control')) return r.loss > 0 || r.dup > 0
  return r.loss === 0 && r.dup === 0 && !r.stalled && !r.crash && r.dlq >= (r.dlqExpected ?? 0)
}
