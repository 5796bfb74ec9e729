/**
 * A fix of kafkajs 2.2.4's per-connection request queue (src/network/requestQueue/index.js),
 * installed once when flowhouse's Kafka client module loads.
 *
 * `scheduleCheckPendingRequests` runs after every response. With nothing pending and no broker
 * throttle it computes `throttledUntil - Date.now()`, a large negative delay (throttledUntil is
 * -1 by default), so Node runs the check after 1 ms, and the check schedules itself again: every
 * connection spins a 1 ms timer for as long as it is open (kafkajs issues #1556 and #1704; Node 24
 * also prints a TimeoutNegativeWarning). An idle daemon spent about 6 % of a core on it, enough
 * for a `max_cpu_percent` constraint of 5 never to release.
 *
 * The replacement schedules a check only when it can do something: a request is pending (after
 * the throttle ends, or after kafkajs's 10 ms interval when there is none), or the broker's
 * throttle has yet to end. A request pushed later, or a response, schedules again as before.
 */
import { createRequire } from 'node:module'

/** The fields of kafkajs's RequestQueue the check reads and writes. */
export interface QueueState {
  pending: unknown[]
  throttledUntil: number
  throttleCheckTimeoutId: NodeJS.Timeout | null
  checkPendingRequests(): void
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL, in ms. */
const PENDING_CHECK_MS = 10

/** The fixed `scheduleCheckPendingRequests`: `this` is a kafkajs RequestQueue. */
export function scheduleCheckPendingRequests(this: QueueState): void {
  if (this.throttleCheckTimeoutId) return
  const untilUnthrottled = this.throttledUntil - Date.now()
  if (this.pending.length === 0 && untilUnthrottled <= 0) return
  const delay = untilUnthrottled > 0 ? untilUnthrottled : PENDING_CHECK_MS
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null
    this.checkPendingRequests()
  }, delay)
}

/**
 * Installs the fix on the RequestQueue class kafkajs itself loads (the same CommonJS module).
 * @throws when kafkajs no longer has that class and method (a kafkajs upgrade: review the fix).
 */
export function installRequestQueueFix(): void {
  const require = createRequire(import.meta.url)
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: Record<string, unknown> } | undefined
  if (typeof RequestQueue?.prototype?.scheduleCheckPendingRequests !== 'function') throw new Error('kafkajs RequestQueue.scheduleCheckPendingRequests is gone: review src/kafka/request-queue.ts for this kafkajs version')
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests
}

installRequestQueueFix()
