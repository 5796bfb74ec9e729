/** Process figures for the benchmarks, read from /proc (Linux). */
import { readFile } from 'node:fs/promises'
import { sql } from '../test/integration/helpers.ts'

/** Peak resident set size (VmHWM) of a process, in MiB. */
export async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

/** CPU seconds (user + system, all threads) a process has used so far: /proc/<pid>/stat fields 14 and 15, in clock ticks (100 per second). */
export async function daemonCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Rows in a table, through the daemon's /api/sql. */
export const count = async (url: string, table: string) => Number((await sql<{ n: string }>(url, `SELECT count() AS n FROM ${table}`))[0]!.n)
