import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { assignIds, idFieldOf, rowRange } from '../../../src/replay/rows.ts'

describe('row selection', () => {
  it('turns skip and limit into a half-open row range', () => {
    assert.deepEqual(rowRange({}), { start: 0, end: undefined })
    assert.deepEqual(rowRange({ skip: 10 }), { start: 10, end: undefined })
    assert.deepEqual(rowRange({ skip: 10, limit: 5 }), { start: 10, end: 15 })
    assert.deepEqual(rowRange({ limit: 0 }), { start: 0, end: 0 })
  })

  it('rejects skip and limit that are not non-negative integers', () => {
    assert.throws(() => rowRange({ skip: -1 }), { code: 'BAD_REQUEST', message: 'skip must be a non-negative integer, got -1' })
    assert.throws(() => rowRange({ limit: Number.NaN }), { code: 'BAD_REQUEST', message: 'limit must be a non-negative integer, got NaN' })
  })
})

describe('row identity', () => {
  it('gives records without an id their file row index as a string, whatever the chunking', () => {
    const records = [{ a: 1 }, { a: 2, id: 'kept' }, { a: 3, id: null }] as Array<Record<string, unknown>>
    assert.deepEqual(assignIds(records, 1_234, 'id'), [
      { a: 1, id: '1234' },
      { a: 2, id: 'kept' },
      { a: 3, id: '1236' },
    ])
  })

  it('uses id by default, another field when asked, and none with null', () => {
    assert.equal(idFieldOf({}), 'id')
    assert.equal(idFieldOf({ idField: 'flight_id' }), 'flight_id')
    assert.equal(idFieldOf({ idField: null }), null)
    assert.deepEqual(assignIds([{ a: 1 }], 0, null), [{ a: 1 }])
  })
})
