import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PartitionBatch } from '../../../src/delivery/batch.ts'
import type { WorkResult } from '../../../src/transforms/types.ts'

const result = (rows: string, count: number, extra: Partial<WorkResult> = {}): WorkResult => ({
  records: count,
  tables: [{ table: 't', rows: Buffer.from(rows), count }],
  topics: [],
  dlq: [],
  filtered: 0,
  consumed: 0,
  durationMs: 1,
  ...extra,
})

test('a partition batch spans the offsets it was given and sums rows and bytes per table', () => {
  const b = new PartitionBatch()
  assert.equal(b.empty, true)
  b.add(10, 1_000, result('{"a":1}\n', 1))
  b.add(11, 900, result('{"a":2}\n{"a":3}\n', 2, { filtered: 1, records: 3 }))
  assert.equal(b.empty, false)
  assert.equal(b.first, 10)
  assert.equal(b.last, 11)
  assert.equal(b.rows, 3)
  assert.equal(b.records, 4)
  assert.equal(b.filtered, 1)
  assert.equal(b.oldestTimestamp, 900)
  assert.equal(b.bytes, '{"a":1}\n{"a":2}\n{"a":3}\n'.length)
  assert.equal(Buffer.concat(b.tables.get('t')!.parts).toString(), '{"a":1}\n{"a":2}\n{"a":3}\n')
})

test('the bytes a batch holds count records bound for other streams and dead-letter texts, not only table rows', () => {
  const b = new PartitionBatch()
  b.add(1, 1_000, result('{"a":1}\n', 1))
  assert.equal(b.heldBytes, b.bytes)
  b.add(2, 1_000, result('', 0, { tables: [], topics: [{ topic: 'next', records: ['{"b":1}', '{"b":22}'] }] }))
  b.add(3, 1_000, result('', 0, { tables: [], dlqText: { texts: ['x'.repeat(100)], stages: { validation: 1 } } }), { pipeline: 'p', stream: 's', topic: 's', partition: 0, offset: '3' })
  assert.equal(b.bytes, '{"a":1}\n'.length)
  assert.equal(b.heldBytes, '{"a":1}\n'.length + '{"b":1}'.length + '{"b":22}'.length + 100)
})
