/**
 * A measured reader in a child process, driven over a line protocol: the child prints one JSON
 * line `{"ready": true}` on stdout once it is set up (tables created, consumer subscribed), then
 * `{"done": true}` once it has read every row, then waits; the parent reads the
 * child's /proc figures, writes `report\n` to its stdin, and the child answers one JSON line
 * (e.g. its views' contents) and exits.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import path from 'node:path'
import { ROOT } from '../test/integration/helpers.ts'

export interface MeasuredChild {
  child: ChildProcess
  /** Resolves on the `ready` line with its `performance.now()`; rejects when the child exits first. */
  ready: Promise<number>
  /** Resolves on the `done` line; rejects when the child exits first or after `timeoutMs`. */
  done: Promise<void>
  /** Asks for the report line and waits for the child to exit. */
  report<T>(): Promise<T>
  /** Everything the child wrote to stderr. */
  stderr(): string
}

/** Starts `node --import tsx bench/<script> <JSON args>`; the whole run is bounded by `timeoutMs`. */
export function startChild(script: string, args: unknown, timeoutMs: number): MeasuredChild {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', script), JSON.stringify(args)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const lines: string[] = []
  const waiters: Array<() => void> = []
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line)
    waiters.splice(0).forEach((w) => w())
  })
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const nextLine = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const take = (): boolean => {
        const line = lines.shift()
        if (line === undefined) return false
        resolve(line)
        return true
      }
      if (take()) return
      waiters.push(() => void take())
      void exited.then((code) => reject(new Error(`bench/${script} exited with ${code} before answering:\n${stderr.slice(-4000)}`)))
    })
  const expect = (line: string, key: 'ready' | 'done'): void => {
    if (!(JSON.parse(line) as Record<string, unknown>)[key]) throw new Error(`bench/${script}: expected {"${key}": true}, got ${line}`)
  }
  const ready = nextLine().then((line) => (expect(line, 'ready'), performance.now()))
  const done = ready.then(nextLine).then((line) => expect(line, 'done'))
  ready.catch(() => undefined)
  return {
    child,
    ready,
    done,
    stderr: () => stderr,
    async report<T>() {
      const answer = nextLine()
      child.stdin!.write('report\n')
      const line = await answer
      await exited
      clearTimeout(timer)
      try {
        return JSON.parse(line) as T
      } catch {
        throw new Error(`bench/${script}: the report is not one JSON line (${line.length} characters, ending ${JSON.stringify(line.slice(-80))})`)
      }
    },
  }
}

/** Child side: announces that the reader is set up. */
export function announceReady(): void {
  console.log(JSON.stringify({ ready: true }))
}

/** Child side: writes the report line and exits once stdout has taken it (a pipe is asynchronous: `process.exit` right after `console.log` can cut a long line). */
export function reportAndExit(report: unknown): void {
  process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0))
}

/** Child side: waits for the parent's `report` line. */
export function waitForReportRequest(): Promise<void> {
  return new Promise((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()))
}
