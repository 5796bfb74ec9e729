import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { EventLoopMonitor } from '../../../src/health/event-loop.ts'
import { Periodic } from '../../../src/util/periodic.ts'
import { registerHealth } from '../../../src/http/health.ts'

function busy(ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end) {
    /* block the event loop */
  }
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('/health answers 200 with the event-loop delay while the loop is responsive, and 503 once the p99 delay passes the limit', async () => {
  const monitor = new EventLoopMonitor(60_000, 10).start()
  const app = Fastify()
  registerHealth(app, { monitor, maxEventLoopDelayMs: 100 })
  try {
    await tick(200)
    const ok = await app.inject({ method: 'GET', url: '/health' })
    assert.equal(ok.statusCode, 200)
    const body = ok.json() as { status: string; eventLoopDelayMs: { p99Ms: number; samples: number }; maxEventLoopDelayMs: number }
    assert.equal(body.status, 'ok')
    assert.equal(body.maxEventLoopDelayMs, 100)
    assert.ok(body.eventLoopDelayMs.samples > 0)
    assert.ok(body.eventLoopDelayMs.p99Ms < 100, JSON.stringify(body))

    // Starve the loop: most timer samples now arrive 150 ms late.
    for (let i = 0; i < 10; i++) {
      busy(150)
      await tick(1)
    }
    const starved = await app.inject({ method: 'GET', url: '/health' })
    assert.equal(starved.statusCode, 503, starved.body)
    const sbody = starved.json() as { status: string; eventLoopDelayMs: { p99Ms: number; maxMs: number } }
    assert.equal(sbody.status, 'unresponsive')
    assert.ok(sbody.eventLoopDelayMs.p99Ms > 100 && sbody.eventLoopDelayMs.maxMs >= 140, JSON.stringify(sbody))

    // Two rotations later the starvation has aged out.
    monitor.rotate()
    await tick(200)
    monitor.rotate()
    await tick(200)
    assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
  } finally {
    monitor.stop()
    await app.close()
  }
})

test('a periodic task runs at start and on its interval, never twice at once, and stop waits for the run in progress', async () => {
  let runs = 0
  let concurrent = 0
  let maxConcurrent = 0
  const task = new Periodic('test', 20, async () => {
    runs++
    concurrent++
    maxConcurrent = Math.max(maxConcurrent, concurrent)
    await tick(50)
    concurrent--
  }).start()
  await tick(10)
  assert.equal(runs, 1)
  await tick(200)
  await task.stop()
  assert.equal(maxConcurrent, 1)
  assert.equal(concurrent, 0)
  const after = runs
  assert.ok(after >= 3 && after <= 6, `runs: ${after}`)
  await tick(100)
  assert.equal(runs, after)
  await task.stop()
})

test('a failing periodic task is logged and keeps its schedule', async () => {
  let runs = 0
  const task = new Periodic('failing', 20, async () => {
    runs++
    throw new Error('boom')
  }).start()
  await tick(120)
  await task.stop()
  assert.ok(runs >= 3, `runs: ${runs}`)
})
