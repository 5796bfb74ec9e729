import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { dedupToken, replayToken } from '../../../src/delivery/token.ts'

describe('dedupToken', () => {
  it('is <table>:<topic>:<partition>:<first>-<last> (contract "Delivery")', () => {
    assert.equal(dedupToken('flights', 'flights', 3, '100', '199'), 'flights:flights:3:100-199')
    assert.equal(dedupToken('by_origin', 'flights.raw', 0, 0, 0n), 'by_origin:flights.raw:0:0-0')
  })

  it('refuses a negative partition, a non-integer offset and a reversed range', () => {
    assert.throws(() => dedupToken('t', 't', -1, '0', '1'), RangeError)
    assert.throws(() => dedupToken('t', 't', 0, '1.5', '2'), RangeError)
    assert.throws(() => dedupToken('t', 't', 0, '10', '9'), { name: 'RangeError', message: 'first offset 10 is after last offset 9' })
  })

  it('gives the same range the same token whether the offsets come as strings, numbers or bigints', () => {
    assert.equal(dedupToken('t', 'flights', 1, '7', '9'), dedupToken('t', 'flights', 1, 7, 9n))
    assert.notEqual(dedupToken('t', 'flights', 1, 7, 9), dedupToken('t', 'flights', 1, 7, 10))
    assert.notEqual(dedupToken('t', 'flights', 1, 7, 9), dedupToken('t', 'flights', 2, 7, 9))
  })
})

describe('replayToken', () => {
  it('is <table>:replay:<dlq topic>:<partition>:<offset>, naming the dead letter and not the ingest offsets', () => {
    assert.equal(replayToken('flights', 'flights.dlq:0:42'), 'flights:replay:flights.dlq:0:42')
    assert.notEqual(replayToken('flights', 'flights.dlq:0:42'), replayToken('flights', 'flights.dlq:0:43'))
  })
})
