/**
 * Failpoints: named steps of the delivery protocol and of the backfill loop where a test can make
 * the daemon die as `kill -9` would, or fail once with a retriable error, so the crash and retry
 * paths are exercised at the exact moment they matter (between an insert and its offset commit).
 *
 * Inert unless `FLOWHOUSE_FAILPOINTS` is set: a comma-separated list of `<name>=<action>[@<hit>]`,
 * read once when the module loads. Actions:
 *   - `exit`  — the process sends itself SIGKILL (no handler, no flush, no commit);
 *   - `error` — the step throws a retriable FailpointError, once;
 *   - `stall` — the step waits STALL_MS (5 s) before it goes on, once (a slow insert or commit);
 *   - `on`    — a switch a step reads with failpointOn() (e.g. `delivery.no-dedup-token=on`).
 * `@<hit>` fires on that hit of the step (1-based, default 1); `exit`, `error` and `stall` fire once.
 * Example: `FLOWHOUSE_FAILPOINTS=delivery.after-insert=exit@3`.
 *
 * When the variable is unset, a step costs one branch: call sites read
 * `if (failpointsArmed) await failpoint(name, context)`, so not even the context object is built.
 */
import { writeSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { FlowhouseError } from '../errors.ts'
import { setting } from './environment.ts'

/** Every failpoint, in protocol order. */
export const FailpointNames = [
  /** Batch flush (delivery/protocol.ts): after the range was committed with its pending mark, before any insert. */
  'delivery.after-pending-commit',
  /** Batch flush (delivery/protocol.ts): after every table insert of the batch, before the produces. */
  'delivery.after-insert',
  /** Batch flush (delivery/protocol.ts): after the dead-letter entries were produced. */
  'delivery.after-dlq',
  /** Batch flush (delivery/protocol.ts): right before the offset after the batch is committed. */
  'delivery.before-final-commit',
  /** Switch (`on`): inserts carry no deduplication token (negative control of exactly-once). */
  'delivery.no-dedup-token',
  /** Backfill loop: after a batch's INSERT ... SELECT, before its progress is saved. */
  'backfill.after-insert',
  /** Backfill loop: after a batch's progress was saved. */
  'backfill.after-progress',
  /** Switch (`on`): backfill batches carry no deduplication token (negative control). */
  'backfill.no-dedup-token',
] as const
export type FailpointName = (typeof FailpointNames)[number]

export type FailpointAction = 'exit' | 'error' | 'stall' | 'on'

/** How long a `stall` failpoint holds its step (ms). */
export const STALL_MS = 5_000

interface Armed {
  action: FailpointAction
  /** Hit on which the failpoint fires (1-based). */
  at: number
  hits: number
  fired: boolean
}

/** A failure injected by a failpoint with action `error`; retriable like a lost connection. */
export class FailpointError extends FlowhouseError {
  constructor(name: FailpointName, context: Record<string, unknown>) {
    super('FAILPOINT', `failpoint ${name} injected a retriable error`, { retriable: true, context: { failpoint: name, ...context } })
  }
}

/**
 * Parses a `FLOWHOUSE_FAILPOINTS` value.
 * @returns the armed failpoints by name (empty for an empty value).
 * @throws Error naming the entry when a name or action is unknown or `@<hit>` is not a positive integer.
 */
export function parseFailpoints(text: string): Map<FailpointName, { action: FailpointAction; at: number }> {
  const out = new Map<FailpointName, { action: FailpointAction; at: number }>()
  for (const entry of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z.-]+)=(exit|error|stall|on)(?:@(\d+))?$/.exec(entry)
    if (!m) throw new Error(`FLOWHOUSE_FAILPOINTS: "${entry}" is not <name>=exit|error|stall|on[@<hit>]`)
    const name = m[1] as FailpointName
    if (!FailpointNames.includes(name)) throw new Error(`FLOWHOUSE_FAILPOINTS: unknown failpoint "${name}"; known: ${FailpointNames.join(', ')}`)
    const at = m[3] === undefined ? 1 : Number(m[3])
    if (!Number.isSafeInteger(at) || at < 1) throw new Error(`FLOWHOUSE_FAILPOINTS: "${entry}": the hit must be a positive integer`)
    out.set(name, { action: m[2] as FailpointAction, at })
  }
  return out
}

let armed: Map<FailpointName, Armed> | undefined
/** True when FLOWHOUSE_FAILPOINTS armed at least one failpoint (a live binding: armFailpoints updates it). */
export let failpointsArmed = false

/** Arms the failpoints of `text` (a `FLOWHOUSE_FAILPOINTS` value); undefined or empty disarms all. */
export function armFailpoints(text: string | undefined): void {
  const parsed = text ? parseFailpoints(text) : new Map()
  armed = parsed.size === 0 ? undefined : new Map([...parsed].map(([name, a]) => [name, { ...a, hits: 0, fired: false }]))
  failpointsArmed = armed !== undefined
}

armFailpoints(setting('FLOWHOUSE_FAILPOINTS'))

function fire(name: FailpointName, context: Record<string, unknown>): Promise<void> | undefined {
  const fp = armed?.get(name)
  if (!fp || fp.action === 'on' || fp.fired || ++fp.hits < fp.at) return undefined
  fp.fired = true
  // Written synchronously: with `exit` nothing after this line runs, buffered logs included.
  writeSync(2, `${JSON.stringify({ failpoint: name, action: fp.action, hit: fp.hits, pid: process.pid, ...context })}\n`)
  if (fp.action === 'exit') {
    process.kill(process.pid, 'SIGKILL')
    // SIGKILL to oneself is delivered before the next instruction; never continue the step.
    for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_000)
  }
  if (fp.action === 'stall') return sleep(STALL_MS)
  throw new FailpointError(name, context)
}

/**
 * Marks a step. Inert (one branch) unless FLOWHOUSE_FAILPOINTS arms `name` with `exit`, `error`
 * or `stall`. Before firing it writes one JSON line `{"failpoint": name, "action", "hit", "pid",
 * ...context}` to stderr.
 * @returns a promise of STALL_MS when armed with `stall`, on its hit (the step awaits it); otherwise undefined.
 * @throws FailpointError (retriable) when armed with `error`, on its hit, once.
 */
export function failpoint(name: FailpointName, context: Record<string, unknown> = {}): Promise<void> | undefined {
  return armed !== undefined ? fire(name, context) : undefined
}

/** True when `name` is armed with `on` (a test switch such as `delivery.no-dedup-token`). */
export function failpointOn(name: FailpointName): boolean {
  return armed !== undefined && armed.get(name)?.action === 'on'
}
