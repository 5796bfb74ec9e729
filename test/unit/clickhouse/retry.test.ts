import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { backoffMs, withRetry } from '../../../src/clickhouse/retry.ts'
import { ClickHouseError } from '../../../src/errors.ts'

const tooManyParts = (): ClickHouseError => new ClickHouseError('too many parts', { chCode: 252, type: 'TOO_MANY_PARTS', retriable: true })
const parseError = (): ClickHouseError => new ClickHouseError('cannot parse', { chCode: 27, type: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED', retriable: false })

describe('withRetry', () => {
  it('retries retriable ClickHouse errors and reports each retry with the error', async () => {
    const seen: Array<[string | undefined, number]> = []
    let calls = 0
    const result = await withRetry(
      async (attempt) => {
        calls++
        if (attempt < 2) throw tooManyParts()
        return 'ok'
      },
      { baseMs: 1, maxMs: 2, onRetry: (error, attempt) => void seen.push([error.type, attempt]) },
    )
    assert.equal(result, 'ok')
    assert.equal(calls, 3)
    assert.deepEqual(seen, [
      ['TOO_MANY_PARTS', 1],
      ['TOO_MANY_PARTS', 2],
    ])
  })

  it('does not retry a non-retriable ClickHouse error', async () => {
    let calls = 0
    await assert.rejects(
      withRetry(async () => {
        calls++
        throw parseError()
      }, { baseMs: 1 }),
      { chCode: 27 },
    )
    assert.equal(calls, 1)
  })

  it('never retries a programmer error', async () => {
    let calls = 0
    await assert.rejects(
      withRetry(async () => {
        calls++
        throw new TypeError('undefined is not a function')
      }, { baseMs: 1 }),
      TypeError,
    )
    assert.equal(calls, 1)
  })

  it('gives up after `retries` retries with the last error', async () => {
    let calls = 0
    await assert.rejects(
      withRetry(async () => {
        calls++
        throw tooManyParts()
      }, { retries: 3, baseMs: 1, maxMs: 1 }),
      { chCode: 252 },
    )
    assert.equal(calls, 4)
  })

  it('stops waiting when the signal aborts and throws its reason', async () => {
    const controller = new AbortController()
    const reason = new Error('shutting down')
    const pending = withRetry(async () => {
      throw tooManyParts()
    }, { retries: Infinity, baseMs: 60_000, maxMs: 60_000, signal: controller.signal, onRetry: () => controller.abort(reason) })
    await assert.rejects(pending, (e) => e === reason)
  })
})

describe('backoffMs', () => {
  it('doubles from baseMs with jitter in the upper half, capped at maxMs', () => {
    assert.equal(backoffMs(1, 100, 10_000, () => 0), 50)
    assert.equal(backoffMs(1, 100, 10_000, () => 1), 100)
    assert.equal(backoffMs(4, 100, 10_000, () => 1), 800)
    assert.equal(backoffMs(30, 100, 10_000, () => 1), 10_000)
    assert.equal(backoffMs(1000, 100, 10_000, () => 0), 5_000)
  })
})
