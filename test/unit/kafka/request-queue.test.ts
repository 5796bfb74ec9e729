import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import '../../../src/kafka/client.ts'
import { scheduleCheckPendingRequests, type QueueState } from '../../../src/kafka/request-queue.ts'

/** A queue state as kafkajs's RequestQueue holds it, counting the checks that run. */
function queue(pending: number, throttledUntil: number): QueueState & { checks: number } {
  const q = {
    pending: Array.from({ length: pending }, () => ({})),
    throttledUntil,
    throttleCheckTimeoutId: null as NodeJS.Timeout | null,
    checks: 0,
    checkPendingRequests() {
      q.checks++
      scheduleCheckPendingRequests.call(q)
    },
  }
  return q
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test("the Kafka client module installs the fix on kafkajs's own RequestQueue", () => {
  const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as { prototype: Record<string, unknown> }
  assert.equal(RequestQueue.prototype.scheduleCheckPendingRequests, scheduleCheckPendingRequests)
})

test('an idle, unthrottled queue schedules no check (kafkajs spun a 1 ms timer for ever here)', async () => {
  const q = queue(0, -1)
  scheduleCheckPendingRequests.call(q)
  assert.equal(q.throttleCheckTimeoutId, null)
  await sleep(50)
  assert.equal(q.checks, 0)
})

test('a pending request is checked after 10 ms without a throttle, and after the throttle ends with one', async () => {
  const waiting = queue(1, -1)
  scheduleCheckPendingRequests.call(waiting)
  assert.notEqual(waiting.throttleCheckTimeoutId, null)
  await sleep(40)
  // It stays pending in this stub, so the check repeats about every 10 ms.
  assert.ok(waiting.checks >= 2, `${waiting.checks} checks`)
  waiting.pending = []
  await sleep(30)
  const after = waiting.checks
  await sleep(50)
  assert.equal(waiting.checks, after, 'once nothing is pending the checks stop')

  const throttled = queue(1, Date.now() + 120)
  scheduleCheckPendingRequests.call(throttled)
  await sleep(60)
  assert.equal(throttled.checks, 0, 'not before the throttle ends')
  await sleep(120)
  assert.ok(throttled.checks >= 1)
  throttled.pending = []
  await sleep(30)
})

test('a throttled queue with nothing pending still checks when the throttle ends', async () => {
  const q = queue(0, Date.now() + 30)
  scheduleCheckPendingRequests.call(q)
  await sleep(80)
  assert.equal(q.checks, 1)
})
