/** Process figures for the benchmarks, read from /proc (Linux). */
import { readdir, readFile } from 'node:fs/promises'
import { sql } from '../test/integration/helpers.ts'

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100

/** Peak resident set size (VmHWM) of a process, in MiB. */
export async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

/** Fields of /proc/<pid>/stat after the command name: index 1 is ppid, 11..14 utime, stime, cutime, cstime (clock ticks). */
async function statFields(pid: number): Promise<string[]> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** CPU seconds (user + system, all threads) a process has used so far: /proc/<pid>/stat fields 14 and 15, in clock ticks (100 per second). */
export async function daemonCpuSeconds(pid: number): Promise<number> {
  const fields = await statFields(pid)
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

/** `pid` and every live descendant of it, from the ppid field of /proc/<pid>/stat. */
async function processTree(pid: number): Promise<number[]> {
  const parents = new Map<number, number>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const fields = await statFields(Number(entry)).catch(() => undefined)
    if (fields) parents.set(Number(entry), Number(fields[1]))
  }
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child)
  return tree
}

/**
 * Figures of a process tree at this moment: CPU seconds of every process in it (user + system of
 * all threads, plus the waited-for children's cutime + cstime) and the sum of their peak RSS
 * (VmHWM, MiB; an upper bound of the tree's peak).
 * @throws when `pid` has exited (its /proc entry is gone).
 */
export async function treeFigures(pid: number): Promise<{ cpuSeconds: number; peakRssMb: number }> {
  let ticks = 0
  let rss = 0
  for (const p of await processTree(pid)) {
    const fields = await statFields(p).catch(() => undefined)
    if (!fields) continue
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    rss += await peakRssMb(p).catch(() => 0)
  }
  return { cpuSeconds: ticks / TICKS_PER_SECOND, peakRssMb: rss }
}

/**
 * CPU seconds of a process's live threads, summed by thread name (/proc/<pid>/task/<tid>/stat:
 * the name, fields 14 and 15), largest first. The thread whose id is `pid` is named 'main thread';
 * Node 24 names its other threads (WorkerThread: transform workers and module loader threads;
 * V8Worker: V8's garbage collection and compiler helpers; libuv-worker: libuv's pool, where chDB
 * runs an insert), Node 20 names them all `node`; chDB's own threads carry ClickHouse's names
 * (ThreadPool, MergeMutate, ...). Threads that have exited are not counted: the sum can be below daemonCpuSeconds.
 * @throws when `pid` has exited.
 */
export async function threadCpuSeconds(pid: number): Promise<Array<{ name: string; threads: number; cpuSeconds: number }>> {
  const byName = new Map<string, { threads: number; ticks: number }>()
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => undefined)
    if (!stat) continue
    const name = tid === String(pid) ? 'main thread' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const entry = byName.get(name) ?? { threads: 0, ticks: 0 }
    entry.threads++
    entry.ticks += Number(fields[11]) + Number(fields[12])
    byName.set(name, entry)
  }
  return [...byName].map(([name, e]) => ({ name, threads: e.threads, cpuSeconds: e.ticks / TICKS_PER_SECOND })).sort((a, b) => b.cpuSeconds - a.cpuSeconds)
}

/** Median of a non-empty list. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** Rows in a table, through the daemon's /api/sql. */
export const count = async (url: string, table: string) => Number((await sql<{ n: string }>(url, `SELECT count() AS n FROM ${table}`))[0]!.n)
