/**
 * Limits that remove or slow records, against the real broker and embedded ClickHouse, and the
 * constraints CLI. Per-minute rate limits with the removing actions: 3 users send 1,000 events each in one burst
 * against `max_events_per_minute: 200` per user_id. The per-minute bucket starts full and refills
 * at 200/60 per second, so each user gets exactly its 200 plus what refilled while the burst was
 * consumed: a tolerance no broken limiter (1 or 999 through) can meet. `dead_letter` sends the
 * rest to the DLQ; `drop` counts them as dropped and dead-letters nothing. `flowhouse constraints
 * violations` lists the history the API holds; `disable` lets a burst through, `enable` limits it
 * again. `max_cpu_percent` throttles a pipeline while the process is busier than the limit and
 * still writes every record.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { copyFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { ROOT, metricValue, readTopic, removeDir, sql, startDaemon, waitFor, type DaemonProcess } from '../helpers.ts'
import { api, event, eventsModule, produce, type EventsModule } from './helpers.ts'

const USERS = ['alice', 'bob', 'carol']
const PER_USER = 1_000
const TOTAL = USERS.length * PER_USER
const PER_MINUTE = 200
let daemon: DaemonProcess | undefined
let dlqModule: EventsModule
let dropModule: EventsModule
let cpuModule: EventsModule

before(async () => {
  const rule = (action: string) => `[new Constraint({ name: 'user_minute', type: 'rate', action: '${action}', config: { max_events_per_minute: ${PER_MINUTE}, group_by: ['user_id'] } })]`
  dlqModule = await eventsModule('rate_min_dlq', rule('dead_letter'))
  dropModule = await eventsModule('rate_min_drop', rule('drop'))
  cpuModule = await eventsModule('cpu_limit', `[new Constraint({ name: 'busy', type: 'resource', config: { max_cpu_percent: 5 } })]`)
  // One daemon runs the three pipelines.
  for (const m of [dropModule, cpuModule]) await copyFile(path.join(m.pipelinesDir, `${m.name}.ts`), path.join(dlqModule.pipelinesDir, `${m.name}.ts`))
  daemon = await startDaemon({ pipelinesDir: dlqModule.pipelinesDir, dataDir: dlqModule.dataDir, env: { FLOWHOUSE_BATCH_FLUSH_MS: '100' } })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  for (const m of [dlqModule, dropModule, cpuModule]) if (m) await removeDir(m.dir)
})

const events = (prefix: string) => Array.from({ length: TOTAL }, (_, i) => event(`${prefix}-${USERS[i % 3]}-${Math.floor(i / 3)}`, USERS[i % 3]!))

/** Sends the burst, waits until every event is consumed and flushed; returns seconds elapsed and rows written per user. */
async function burst(m: EventsModule): Promise<{ elapsedS: number; perUser: Map<string, number> }> {
  const sent = performance.now()
  await produce(m.name, events(m.name), 100)
  await waitFor(async () => (await metricValue(daemon!.url, 'flowhouse_records_consumed_total', { pipeline: m.name })) === TOTAL, { timeoutMs: 60_000, what: 'every event consumed' })
  const elapsedS = (performance.now() - sent) / 1000
  const rows = await waitFor(async () => {
    const r = await sql<{ user_id: string; n: string }>(daemon!.url, `SELECT user_id, count() AS n FROM ${m.name} GROUP BY user_id ORDER BY user_id`)
    return r.length === USERS.length && r.every((u) => Number(u.n) >= PER_MINUTE) ? r : undefined
  }, { timeoutMs: 30_000, what: `${PER_MINUTE} rows per user` })
  return { elapsedS, perUser: new Map(rows.map((r) => [r.user_id, Number(r.n)])) }
}

/** At most this many per user: the full bucket plus the refill over the elapsed time (+1 for rounding). */
const ceiling = (elapsedS: number) => PER_MINUTE + Math.ceil((PER_MINUTE / 60) * elapsedS) + 1

test('with max_events_per_minute and dead_letter, each user gets its 200 (plus the refill while consuming) and the rest is dead-lettered with the reason', { timeout: 120_000 }, async (t) => {
  const m = dlqModule
  const { elapsedS, perUser } = await burst(m)
  t.diagnostic(`written per user ${JSON.stringify([...perUser])} in ${elapsedS.toFixed(1)} s`)
  for (const [user, n] of perUser) assert.ok(n >= PER_MINUTE && n <= ceiling(elapsedS), `${user}: ${n} written, limit ${PER_MINUTE}/min over ${elapsedS.toFixed(1)} s`)
  const written = [...perUser.values()].reduce((a, b) => a + b, 0)
  const dlq = await readTopic(`${m.name}.dlq`, TOTAL - written)
  assert.equal(dlq.length, TOTAL - written)
  const entries = dlq.map((x) => JSON.parse(x.value) as { stage: string; errorType: string; reason: string; record: { id: string; user_id: string } })
  assert.ok(entries.every((e) => e.stage === 'constraint' && e.errorType === 'rate_limit_exceeded'))
  for (const user of USERS) assert.equal(entries.filter((e) => e.record.user_id === user).length, PER_USER - perUser.get(user)!, `${user}: the rest is dead-lettered`)
  assert.equal(await metricValue(daemon!.url, 'flowhouse_records_dead_lettered_total', { pipeline: m.name, stage: 'constraint' }), TOTAL - written)
  assert.equal(await metricValue(daemon!.url, 'flowhouse_records_dropped_total', { pipeline: m.name }), 0)
})

test('with max_events_per_minute and drop, each user gets its 200 (plus the refill) and the rest is counted as dropped, never dead-lettered', { timeout: 120_000 }, async (t) => {
  const m = dropModule
  const { elapsedS, perUser } = await burst(m)
  t.diagnostic(`written per user ${JSON.stringify([...perUser])} in ${elapsedS.toFixed(1)} s`)
  for (const [user, n] of perUser) assert.ok(n >= PER_MINUTE && n <= ceiling(elapsedS), `${user}: ${n} written, limit ${PER_MINUTE}/min over ${elapsedS.toFixed(1)} s`)
  const written = [...perUser.values()].reduce((a, b) => a + b, 0)
  await waitFor(async () => (await metricValue(daemon!.url, 'flowhouse_records_dropped_total', { pipeline: m.name, constraint: 'user_minute' })) === TOTAL - written, { timeoutMs: 10_000, what: `${TOTAL - written} dropped` })
  assert.equal(await metricValue(daemon!.url, 'flowhouse_records_dead_lettered_total', { pipeline: m.name }), 0)
  assert.equal(await metricValue(daemon!.url, 'flowhouse_constraint_violations_total', { pipeline: m.name, constraint: 'user_minute', action: 'drop' }), TOTAL - written)
})

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), ...args], { cwd: ROOT, env: { ...process.env, FLOWHOUSE_URL: daemon!.url }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

test('flowhouse constraints violations lists the same history as the API (one violation per dead-lettered record), one table row per history row', { timeout: 60_000 }, async () => {
  const m = dlqModule
  const q = `pipeline=${m.name}&constraint=user_minute&limit=100000`
  const deadLettered = await metricValue(daemon!.url, 'flowhouse_records_dead_lettered_total', { pipeline: m.name, stage: 'constraint' })
  // The history is written in the background: wait until it holds one violation per dead-lettered record.
  const body = await waitFor(async () => {
    const { body } = await api<{ violations: Array<{ record_key: string; count: number | string }> }>(daemon!.url, 'GET', `/api/violations?${q}`)
    return body.violations.reduce((n, v) => n + Number(v.count), 0) === deadLettered ? body : undefined
  }, { timeoutMs: 20_000, what: `${deadLettered} violations in the history` })
  for (const user of USERS) assert.ok(body.violations.some((v) => v.record_key.includes(user)), `${user} was limited: ${JSON.stringify(body.violations.slice(0, 3))}`)
  const out = await cli(['constraints', 'violations', '--pipeline', m.name, '--constraint', 'user_minute', '--limit', '100000'])
  assert.equal(out.code, 0, out.stderr)
  // One line per history row below the header, starting with its time.
  const rows = out.stdout.split('\n').filter((l) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s/.test(l))
  assert.equal(rows.length, body.violations.length, out.stdout)
  for (const user of USERS) assert.ok(rows.some((r) => r.includes(user)), `${user} in the CLI table`)
})

test('flowhouse constraints disable lets a burst through unlimited, and enable limits the next one again', { timeout: 120_000 }, async () => {
  const m = dropModule
  const status = async () => (await api<{ enabled: boolean }>(daemon!.url, 'GET', `/api/constraints/${m.name}/user_minute`)).body.enabled
  const off = await cli(['constraints', 'disable', m.name, 'user_minute'])
  assert.equal(off.code, 0, off.stderr)
  await waitFor(async () => (await status()) === false, { timeoutMs: 10_000, what: 'the constraint disabled' })
  const count = async (user: string) => Number((await sql<{ n: string }>(daemon!.url, `SELECT count() AS n FROM ${m.name} WHERE user_id = '${user}'`))[0]!.n)
  await produce(m.name, Array.from({ length: 600 }, (_, i) => event(`off-${i}`, 'dave')), 100)
  await waitFor(async () => (await count('dave')) === 600, { timeoutMs: 30_000, what: 'all 600 of dave written while disabled' })
  const on = await cli(['constraints', 'enable', m.name, 'user_minute'])
  assert.equal(on.code, 0, on.stderr)
  await waitFor(async () => (await status()) === true, { timeoutMs: 10_000, what: 'the constraint enabled' })
  const dropped = await metricValue(daemon!.url, 'flowhouse_records_dropped_total', { pipeline: m.name, constraint: 'user_minute' })
  const sent = performance.now()
  await produce(m.name, Array.from({ length: 600 }, (_, i) => event(`on-${i}`, 'erin')), 100)
  await waitFor(async () => (await metricValue(daemon!.url, 'flowhouse_records_dropped_total', { pipeline: m.name, constraint: 'user_minute' })) + (await count('erin')) === dropped + 600, { timeoutMs: 30_000, what: "erin's 600 written or dropped" })
  const erin = await count('erin')
  const elapsedS = (performance.now() - sent) / 1000
  assert.ok(erin >= PER_MINUTE && erin <= ceiling(elapsedS), `erin: ${erin} written with the limit back on`)
})

test('max_cpu_percent throttles the pipeline while the process is busier than the limit, records the violations, and still writes every record', { timeout: 180_000 }, async (t) => {
  const m = cpuModule
  // The limit is 5 % of the machine averaged over 5 s, so a burst the daemon handles in less
  // than that may stay under it. Waves of records are sent back to back until the daemon is
  // over the limit (bounded: at most WAVES waves); every record of every wave must still land.
  const WAVES = 8
  const PER_WAVE = 25_000
  const violationsNow = () => metricValue(daemon!.url, 'flowhouse_constraint_violations_total', { pipeline: m.name, constraint: 'busy', action: 'throttle' })
  let sent = 0
  for (let wave = 0; wave < WAVES && (await violationsNow()) === 0; wave++) {
    await produce(m.name, Array.from({ length: PER_WAVE }, (_, i) => event(`cpu-${sent + i}`, USERS[i % 3]!, { note: 'x'.repeat(200) })), 500)
    sent += PER_WAVE
  }
  await waitFor(async () => Number((await sql<{ n: string }>(daemon!.url, `SELECT count() AS n FROM ${m.name}`))[0]!.n) === sent, { timeoutMs: 150_000, what: `all ${sent} records written` })
  const [stored] = await sql<{ n: string; ids: string }>(daemon!.url, `SELECT count() AS n, uniqExact(id) AS ids FROM ${m.name}`)
  assert.deepEqual([Number(stored!.n), Number(stored!.ids)], [sent, sent])
  const violations = await violationsNow()
  const throttled = await metricValue(daemon!.url, 'flowhouse_constraint_throttle_seconds_total', { pipeline: m.name, constraint: 'busy' })
  t.diagnostic(`max_cpu_percent 5: ${sent} records sent, ${violations} violations, throttled ${throttled.toFixed(1)} s`)
  assert.ok(violations >= 1, `the daemon never went over 5 % while handling ${sent} records`)
  assert.ok(throttled >= 0.1, 'consumption waited at least one 100 ms step')
  assert.equal(await metricValue(daemon!.url, 'flowhouse_records_dead_lettered_total', { pipeline: m.name }), 0)
  assert.equal(await metricValue(daemon!.url, 'flowhouse_records_dropped_total', { pipeline: m.name }), 0)
})
