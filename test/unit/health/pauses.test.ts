import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PauseRegistry } from '../../../src/health/pauses.ts'
import { pausedPartitionsCheck } from '../../../src/health/readiness.ts'

const token = 'flights:flights:1:100-199'

test('a partition waiting on retried inserts longer than the threshold fails readiness, and passes again once the insert succeeds', () => {
  const pauses = new PauseRegistry()
  assert.deepEqual(pausedPartitionsCheck(60_000, pauses, 1_000), { ok: true, detail: { thresholdMs: 60_000, waiting: [] } })

  const id = pauses.begin({ pipeline: 'flights', table: 'flights', token }, 1_000)
  pauses.retried(id, 'connect ECONNREFUSED 127.0.0.1:8123')
  pauses.retried(id, 'connect ECONNREFUSED 127.0.0.1:8123')
  const waiting = { pipeline: 'flights', table: 'flights', token, pausedMs: 60_000, attempts: 2, lastError: 'connect ECONNREFUSED 127.0.0.1:8123' }
  assert.deepEqual(pausedPartitionsCheck(60_000, pauses, 61_000), { ok: true, detail: { thresholdMs: 60_000, waiting: [waiting] } })
  assert.deepEqual(pausedPartitionsCheck(60_000, pauses, 61_001), { ok: false, detail: { thresholdMs: 60_000, waiting: [{ ...waiting, pausedMs: 60_001 }] } })

  pauses.end(id)
  pauses.end(id)
  assert.equal(pausedPartitionsCheck(60_000, pauses, 61_001).ok, true)
})

test('open pauses are listed longest first with their age', () => {
  const pauses = new PauseRegistry()
  pauses.begin({ pipeline: 'a', table: 'a', token: 'a:a:0:0-9' }, 5_000)
  pauses.begin({ pipeline: 'b', table: 'b', token: 'b:b:0:0-9' }, 2_000)
  assert.deepEqual(pauses.list(10_000).map((p) => [p.pipeline, p.pausedMs, p.attempts, p.lastError]), [['b', 8_000, 0, undefined], ['a', 5_000, 0, undefined]])
  pauses.retried(999, 'unknown ids are ignored')
  pauses.end(999)
  assert.deepEqual(pauses.list(10_000).map((p) => [p.pipeline, p.attempts, p.lastError]), [['b', 0, undefined], ['a', 0, undefined]], 'an unknown id changes no pause')
})
