import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { withRetry } from '../../../src/util/retry.ts'

const transient = (): Error => Object.assign(new Error('connection reset'), { transient: true })
const isTransient = (error: unknown): boolean => (error as { transient?: boolean }).transient === true

describe('shared withRetry', () => {
  it('runs again after each wait the policy gives, and reports every retry with its wait', async () => {
    const seen: Array<[number, number]> = []
    let calls = 0
    const result = await withRetry(
      async (attempt) => {
        calls++
        if (attempt < 2) throw transient()
        return attempt
      },
      { retriable: isTransient, delayMs: (retry) => retry, onRetry: (_error, retry, delayMs) => void seen.push([retry, delayMs]) },
    )
    assert.equal(result, 2)
    assert.equal(calls, 3)
    assert.deepEqual(seen, [
      [1, 1],
      [2, 2],
    ])
  })

  it('throws the last error once the policy has no wait left', async () => {
    let calls = 0
    const waits = [1, 1]
    await assert.rejects(
      withRetry(async () => {
        calls++
        throw transient()
      }, { retriable: isTransient, delayMs: (retry) => waits[retry - 1] }),
      { message: 'connection reset' },
    )
    assert.equal(calls, 3)
  })

  it('never retries a programmer error, even when the policy would', async () => {
    let calls = 0
    await assert.rejects(
      withRetry(async () => {
        calls++
        throw new TypeError('x is not a function')
      }, { retriable: () => true, delayMs: () => 1 }),
      TypeError,
    )
    assert.equal(calls, 1)
  })

  it('makes the first call even when the signal is already aborted, then throws its reason instead of waiting', async () => {
    const controller = new AbortController()
    const reason = new Error('stopping')
    controller.abort(reason)
    let calls = 0
    await assert.rejects(
      withRetry(async () => {
        calls++
        throw transient()
      }, { retriable: isTransient, delayMs: () => 60_000, signal: controller.signal }),
      (e) => e === reason,
    )
    assert.equal(calls, 1)
  })

  it('ends a pending wait when the signal aborts', async () => {
    const controller = new AbortController()
    const reason = new Error('stopping')
    const pending = withRetry(async () => {
      throw transient()
    }, { retriable: isTransient, delayMs: () => 60_000, signal: controller.signal, onRetry: () => void setImmediate(() => controller.abort(reason)) })
    await assert.rejects(pending, (e) => e === reason)
  })
})
