import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ResourceChecker } from '../../../src/constraints/checkers/resource.ts'
import { ResourceLimitExceededError } from '../../../src/errors.ts'
import type { ResourceSpec } from '../../../src/constraints/types.ts'

const spec = (config: ResourceSpec['config']): ResourceSpec => ({ name: 'limits', type: 'resource', config, enabled: true, priority: 0, action: 'throttle' })

test('an event over max_memory_per_event_kb is a violation naming its size; one within it, or without the limit, passes', () => {
  const checker = new ResourceChecker(spec({ max_memory_per_event_kb: 1 }))
  const big = { blob: 'x'.repeat(1100) }
  const bytes = Buffer.byteLength(JSON.stringify(big))
  assert.deepEqual(checker.check(big), { reason: `constraint "limits": event is ${bytes} bytes, over max_memory_per_event_kb 1 (1024 bytes)`, rule: 'max_memory_per_event_kb' })
  assert.equal(checker.check({ blob: 'x'.repeat(1000) }), undefined)
  assert.equal(new ResourceChecker(spec({ max_memory_mb: 512 })).check(big), undefined)
})

test('the processing-time finding says how long the transform took, or that it was stopped', () => {
  const checker = new ResourceChecker(spec({ max_processing_time_ms: 50 }))
  assert.equal(checker.processingLimitMs, 50)
  assert.deepEqual(checker.processingTime(72.4), { reason: 'constraint "limits": transform took 72 ms, over max_processing_time_ms 50', rule: 'max_processing_time_ms' })
  assert.equal(checker.processingTime(undefined).reason, 'constraint "limits": transform did not return within 50 ms and its worker was stopped, over max_processing_time_ms 50')
  assert.throws(() => new ResourceChecker(spec({ max_memory_mb: 1 })).processingTime(10), /has no max_processing_time_ms/)
})

test('memory and CPU findings appear only above their limits', () => {
  const checker = new ResourceChecker(spec({ max_memory_mb: 100, max_cpu_percent: 50 }))
  assert.equal(checker.memory(100), undefined)
  assert.equal(checker.memory(150.6)?.reason, 'constraint "limits": resident memory 151 MiB over max_memory_mb 100; consumption paused')
  assert.equal(checker.cpu(50), undefined)
  assert.equal(checker.cpu(73.2)?.reason, 'constraint "limits": CPU 73% over max_cpu_percent 50; consumption throttled')
  assert.equal(new ResourceChecker(spec({ max_memory_per_event_kb: 1 })).memory(1e9), undefined, 'no memory limit, no pause')
})

test('a per-event violation found on demand is recorded as dead_letter and throws ResourceLimitExceededError naming the rule', () => {
  const checker = new ResourceChecker(spec({ max_memory_per_event_kb: 1 }))
  assert.equal(checker.onDemandAction, 'dead_letter')
  const finding = checker.check({ blob: 'x'.repeat(2000) })!
  const e = checker.error(finding, 'events')
  assert.ok(e instanceof ResourceLimitExceededError)
  assert.equal(e.message, finding.reason)
  assert.deepEqual(e.context, { pipeline: 'events', constraint: 'limits', rule: 'max_memory_per_event_kb' })
})
