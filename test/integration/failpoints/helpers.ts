/**
 * Helpers of the failpoint tests: a daemon that may die before it is ready (armed with an `exit`
 * failpoint), the failpoint line it printed, the pending ranges a restart re-formed, and the
 * consumer group's progress against the topic's end.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { ROOT, freePort, kafka, waitFor } from '../helpers.ts'

export interface Launched {
  url: string
  child: ChildProcess
  output(): string
  /** Resolves with the signal (or exit code) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stop(signal?: NodeJS.Signals): Promise<void>
}

/** Starts `flowhouse start` without waiting for it (an armed `exit` failpoint may kill it any time). */
export async function launch(options: { pipelinesDir: string; dataDir: string; env?: Record<string, string> }): Promise<Launched> {
  const port = await freePort()
  let output = ''
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), 'start', '--pipelines', options.pipelinesDir, '--port', String(port)], {
    cwd: ROOT,
    env: { ...process.env, FLOWHOUSE_DATA_DIR: options.dataDir, FLOWHOUSE_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
  }
}

/** Waits until the daemon answers `path` (default /health) with 2xx; fails when it exits first. */
export async function waitUp(d: Launched, what = '/health', timeoutMs = 90_000): Promise<void> {
  await waitFor(
    async () => {
      if (d.child.exitCode !== null || d.child.signalCode !== null) throw new Error(`daemon ended (${d.child.exitCode ?? d.child.signalCode}):\n${d.output().slice(-3000)}`)
      return (await fetch(`${d.url}${what}`)).ok
    },
    { timeoutMs, what: `the daemon to answer ${what}` },
  )
}

export interface FailpointLine {
  failpoint: string
  action: string
  hit: number
  pid: number
  [key: string]: unknown
}

/** The JSON lines failpoints wrote to stderr, in order. */
export function failpointLines(output: string): FailpointLine[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{"failpoint":'))
    .map((l) => JSON.parse(l) as FailpointLine)
}

/** The JSON log lines (pino) whose `msg` starts with `msg`. */
export function logLines(output: string, msg: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(msg))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => typeof l.msg === 'string' && l.msg.startsWith(msg))
}

/** Pending ranges a restarted consumer found and re-formed ("resuming a batch that was marked pending"). */
export function resumedRanges(output: string): Array<{ partition: number; first: number; last: number }> {
  return logLines(output, 'resuming a batch that was marked pending').map((l) => {
    const p = l.pending as { first: number; last: number }
    return { partition: Number(l.partition), first: p.first, last: p.last }
  })
}

/** End offsets (high watermarks) of every partition of `topic`. */
export async function topicEnds(topic: string): Promise<Map<number, number>> {
  const admin = kafka().admin()
  await admin.connect()
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]))
  } finally {
    await admin.disconnect()
  }
}

/** True when `groupId` committed the end offset of every partition of `topic` without a pending mark. */
export async function groupCaughtUp(groupId: string, topic: string): Promise<boolean> {
  const ends = await topicEnds(topic)
  const admin = kafka().admin()
  await admin.connect()
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] })
    return [...ends].every(([partition, end]) => {
      const c = t?.partitions.find((p) => p.partition === partition)
      return c !== undefined && Number(c.offset) === end && !(c.metadata ?? '').startsWith('flowhouse:pending:')
    })
  } finally {
    await admin.disconnect()
  }
}

/**
 * Sends, for each member still listed in `groupId`, the LeaveGroup request a killed daemon could
 * not send: the broker then drops the dead member at once instead of after its session timeout
 * (45 s), and a restart joins without waiting. It changes nothing else (committed offsets and
 * their pending marks stay). kafkajs has no public call for another member's LeaveGroup, so this
 * goes through its cluster object.
 * @returns the number of members removed.
 */
export async function expireMembers(groupId: string): Promise<number> {
  const admin = kafka().admin()
  await admin.connect()
  const { groups } = await admin.describeGroups([groupId]).finally(() => admin.disconnect())
  const members = groups[0]?.members ?? []
  if (members.length === 0) return 0
  const client = kafka() as unknown as Record<symbol, (o: { metadataMaxAge: number }) => KafkaCluster>
  const create = Object.getOwnPropertySymbols(client).find((s) => s.description === 'private:Kafka:createCluster')!
  const cluster = client[create]!({ metadataMaxAge: 300_000 })
  await cluster.connect()
  try {
    const coordinator = await cluster.findGroupCoordinator({ groupId })
    for (const m of members) await coordinator.leaveGroup({ groupId, memberId: m.memberId })
  } finally {
    await cluster.disconnect()
  }
  return members.length
}

interface KafkaCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  findGroupCoordinator(o: { groupId: string }): Promise<{ leaveGroup(o: { groupId: string; memberId: string }): Promise<unknown> }>
}
