import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as flowhouse from 'flowhouse'
import { IngestPipeline, Key, t, type Static } from 'flowhouse'

test('the flowhouse package exports exactly the pipeline authoring API', () => {
  assert.deepEqual(Object.keys(flowhouse).sort(), ['ConfigError', 'Constraint', 'IngestPipeline', 'Key', 'MaterializedView', 'OlapTable', 'QueryError', 'RateLimitExceededError', 'RefreshError', 'ResourceLimitExceededError', 'Stream', 'ValidationError', 'ViewNotFoundError', 't'])
})

test('a pipeline module written against the package infers record types in transforms', () => {
  const Flight = t.Object({ id: Key(t.String()), delay: t.Int32() })
  const Delayed = t.Object({ id: Key(t.String()), minutes: t.Int32() })
  const flights = new IngestPipeline('flights', { schema: Flight })
  const delayed = new IngestPipeline('delayed', { schema: Delayed })
  const toDelayed = (record: Static<typeof Flight>): Static<typeof Delayed> | null => (record.delay > 0 ? { id: record.id, minutes: record.delay } : null)
  flights.stream.addTransform(delayed, toDelayed)
  // Checked by tsc: a transform returning the wrong record shape for its destination does not compile.
  // @ts-expect-error 'minute' is not a field of Delayed
  flights.stream.addTransform(delayed, (record) => ({ id: record.id, minute: record.delay }))
  assert.equal(flights.stream.transforms[0]?.destination, delayed.stream)
  assert.equal(flights.stream.transforms.length, 2)
})
