import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { DlqEntry } from '../../../src/delivery/types.ts'
import { dlqPredicate, notReplayable, parseDlqEntry } from '../../../src/kafka/dlq.ts'
import { replayMessage } from '../../../src/kafka/dlq-replay.ts'
import { parseSince } from '../../../src/cli/dlq.ts'

const entry = (over: Partial<DlqEntry> = {}): DlqEntry => ({ pipeline: 'orders', stream: 'orders', topic: 'orders', partition: 1, offset: '41', index: 2, stage: 'validation', errorType: 'schema', reason: 'field "amount": must be number', record: { id: 'a', amount: 'x', country: 'FR' }, time: '2026-12-01T10:00:00.000Z', ...over })

test('a DLQ filter selects by stage, time and field conditions, all of which must hold', () => {
  const e = entry()
  assert.equal(dlqPredicate({ stages: ['validation'] })(e), true)
  assert.equal(dlqPredicate({ stages: ['transform'] })(e), false)
  assert.equal(dlqPredicate({ since: new Date('2026-12-01T10:00:00.000Z') })(e), true)
  assert.equal(dlqPredicate({ since: new Date('2026-12-01T10:00:00.001Z') })(e), false)
  assert.equal(dlqPredicate({ where: ['errorType=schema', 'reason~amount', 'record.country=FR', 'partition=1'] })(e), true)
  assert.equal(dlqPredicate({ where: ['errorType=schema', 'record.country=DE'] })(e), false)
  assert.throws(() => dlqPredicate({ where: ['nonsense'] }), { code: 'BAD_REQUEST', message: 'filter "nonsense" must be field=value or field~text (e.g. errorType=schema, reason~amount)' })
})

test("only entries holding the pipeline's input record can be replayed, each with its reason otherwise", () => {
  assert.equal(notReplayable(entry()), undefined)
  assert.equal(notReplayable(entry({ stage: 'transform', errorType: 'transform_error' })), undefined)
  assert.equal(notReplayable(entry({ stage: 'insert', errorType: 'clickhouse_X', table: 'orders' })), undefined)
  assert.equal(notReplayable(entry({ stage: 'decode', errorType: 'invalid_json', record: undefined, raw: '{' })), 'decode: the message was not a JSON array of records')
  assert.equal(notReplayable(entry({ stage: 'transform', errorType: 'output_schema' })), "transform output_schema: the entry holds a transform's output, not the pipeline's input")
  assert.equal(notReplayable(entry({ stage: 'insert', errorType: 'clickhouse_X', table: 'orders_big' })), 'insert: the entry holds a row of table "orders_big", not the pipeline\'s input')
})

test('a replay message is the record as a one-element JSON array with its original coordinates and DLQ position in headers', () => {
  const stored = parseDlqEntry(JSON.stringify(entry({ stage: 'transform', errorType: 'transform_error', writtenTo: 'orders' })), { partition: 0, offset: '7' })!
  assert.deepEqual(replayMessage(stored, 'orders'), {
    value: '[{"id":"a","amount":"x","country":"FR"}]',
    headers: { 'flowhouse-replay-of': 'orders:1:41#2', 'flowhouse-dlq': 'orders.dlq:0:7', 'flowhouse-replay-skip-table': 'orders' },
  })
  assert.equal(parseDlqEntry('not json', { partition: 0, offset: '1' }), undefined)
})

test('--since takes a duration back from now or an ISO-8601 time', () => {
  const now = Date.parse('2026-12-01T12:00:00Z')
  assert.equal(parseSince('15m', now).toISOString(), '2026-12-01T11:45:00.000Z')
  assert.equal(parseSince('2d', now).toISOString(), '2026-11-29T12:00:00.000Z')
  assert.equal(parseSince('2026-12-01T08:00:00Z', now).toISOString(), '2026-12-01T08:00:00.000Z')
  assert.throws(() => parseSince('yesterday', now), /must be a duration/)
})
