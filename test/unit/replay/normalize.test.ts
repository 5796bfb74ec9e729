import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { normalizeTimestampText, normalizeValue } from '../../../src/replay/normalize.ts'
import { timestampParsers } from '../../../src/replay/parquet-reader.ts'

describe('normalizeValue', () => {
  it('turns a Date into an ISO-8601 UTC string with Z and an invalid Date into null', () => {
    assert.equal(normalizeValue(new Date(Date.UTC(2001, 0, 1, 0, 1))), '2001-01-01T00:01:00.000Z')
    assert.equal(normalizeValue(new Date(NaN)), null)
  })

  it('turns a safe BigInt into a number and a larger one into its decimal string', () => {
    assert.equal(normalizeValue(33n), 33)
    assert.equal(normalizeValue(-9_007_199_254_740_991n), -9_007_199_254_740_991)
    assert.equal(normalizeValue(9_007_199_254_740_992n), '9007199254740992')
    assert.equal(normalizeValue(-(2n ** 63n)), '-9223372036854775808')
  })

  it('makes non-finite numbers null, binary base64, and walks arrays and objects', () => {
    assert.equal(normalizeValue(NaN), null)
    assert.equal(normalizeValue(Infinity), null)
    assert.equal(normalizeValue(new Uint8Array([104, 105])), 'aGk=')
    assert.deepEqual(normalizeValue({ a: [1n, new Date(0)], b: undefined, c: { d: 2n ** 64n } }), { a: [1, '1970-01-01T00:00:00.000Z'], c: { d: '18446744073709551616' } })
    assert.deepEqual(normalizeValue(new Int32Array([1, 2])), [1, 2])
    assert.equal(normalizeValue(undefined), null)
  })
})

describe('parquet timestamp parsers', () => {
  it('write millisecond ISO strings, with more digits only when a value has sub-millisecond parts', () => {
    assert.equal(timestampParsers.timestampFromMicroseconds!(978_307_260_000_000n), '2001-01-01T00:01:00.000Z')
    assert.equal(timestampParsers.timestampFromMicroseconds!(978_307_260_000_123n), '2001-01-01T00:01:00.000123Z')
    assert.equal(timestampParsers.timestampFromNanoseconds!(978_307_260_001_000_007n), '2001-01-01T00:01:00.001000007Z')
    assert.equal(timestampParsers.timestampFromMicroseconds!(-1n), '1969-12-31T23:59:59.999999Z')
    assert.equal(timestampParsers.timestampFromMilliseconds!(978_307_260_000n), '2001-01-01T00:01:00.000Z')
    assert.equal(timestampParsers.dateFromDays!(11_323), '2001-01-01')
  })
})

describe('normalizeTimestampText', () => {
  it('rewrites the vega flights JSON date format to ISO-8601 UTC and leaves anything else alone', () => {
    assert.equal(normalizeTimestampText('2001/01/01 06:55'), '2001-01-01T06:55:00.000Z')
    assert.equal(normalizeTimestampText('2001/06/30 23:59:07'), '2001-06-30T23:59:07.000Z')
    assert.equal(normalizeTimestampText('2001-01-01T06:55:00.000Z'), '2001-01-01T06:55:00.000Z')
    assert.equal(normalizeTimestampText('LAX'), 'LAX')
    assert.equal(normalizeTimestampText('2001/01/01 06:55 PST'), '2001/01/01 06:55 PST')
    assert.equal(normalizeTimestampText(42), 42)
  })
})
