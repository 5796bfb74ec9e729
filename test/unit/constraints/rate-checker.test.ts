import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RateChecker } from '../../../src/constraints/checkers/rate.ts'
import { RateLimitExceededError } from '../../../src/errors.ts'
import type { RateSpec } from '../../../src/constraints/types.ts'

const spec = (config: RateSpec['config']): RateSpec => ({ name: 'per_user', type: 'rate', config, enabled: true, priority: 0, action: 'dead_letter' })

test('a rate checker keys a record by its group_by values, and every record by "*" without group_by', () => {
  assert.equal(new RateChecker(spec({ max_events_per_second: 5, group_by: ['user_id', 'region'] })).key({ user_id: 'u1', region: 'eu', other: 1 }), 'u1|eu')
  assert.equal(new RateChecker(spec({ max_events_per_second: 5, group_by: ['user_id'] })).key({ region: 'eu' }), '', 'a missing field counts as empty')
  assert.equal(new RateChecker(spec({ max_events_per_second: 5 })).key({ user_id: 'u1' }), '*')
})

test('a rate checker names the constraint, its limits and the key in the consumer-path message', () => {
  assert.equal(new RateChecker(spec({ max_events_per_second: 10, max_events_per_minute: 100 })).exceeded('u1'), 'constraint "per_user": rate limit 10/s, 100/min exceeded for key "u1"')
  assert.equal(new RateChecker(spec({ max_events_per_minute: 60 })).exceeded('*'), 'constraint "per_user": rate limit 60/min exceeded for key "*"')
})

test('a rate checker reports a throttling wait in whole milliseconds', () => {
  assert.equal(new RateChecker(spec({ max_events_per_second: 10 })).throttled('u1', 1234.6), 'constraint "per_user": rate limit reached for key "u1"; consumption waited 1235 ms')
})

test('a record refused on demand gets a RateLimitExceededError naming pipeline and constraint, waiting at least 1 ms', () => {
  const checker = new RateChecker(spec({ max_events_per_second: 10 }))
  const details = checker.refused('u1')
  assert.equal(details, 'constraint "per_user": rate limit exceeded for key "u1"')
  const e = checker.error(details, 0.2, 'events')
  assert.ok(e instanceof RateLimitExceededError)
  assert.equal(e.message, details)
  assert.equal(e.retryAfterMs, 1)
  assert.equal(checker.error(details, 250, 'events').retryAfterMs, 250)
  assert.deepEqual({ pipeline: e.context.pipeline, constraint: e.context.constraint }, { pipeline: 'events', constraint: 'per_user' })
})
