import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ClickHouseError as ClientError } from '@clickhouse/client'
import { isRetriableError, parseErrorText, toClickHouseError } from '../../../src/clickhouse/errors.ts'
import { ClickHouseError } from '../../../src/errors.ts'

describe('parseErrorText', () => {
  it('reads code, type and message from the current format (chdb, ClickHouse ≥ 20)', () => {
    assert.deepEqual(
      parseErrorText('Code: 252. DB::Exception: Too many parts (300). Merges are processing significantly slower than inserts. (TOO_MANY_PARTS) (version 26.7.2.1)'),
      { chCode: 252, type: 'TOO_MANY_PARTS', message: 'Too many parts (300). Merges are processing significantly slower than inserts.' },
    )
  })

  it('reads the 18.16 format and names the code from the table', () => {
    assert.deepEqual(parseErrorText("Code: 60, e.displayText() = DB::Exception: Table default.nosuch doesn't exist., e.what() = DB::Exception\n"), {
      chCode: 60,
      type: 'UNKNOWN_TABLE',
      message: "Table default.nosuch doesn't exist.",
    })
  })

  it('returns undefined for text without a code', () => {
    assert.equal(parseErrorText('connect ECONNREFUSED 127.0.0.1:8123'), undefined)
  })
})

describe('toClickHouseError', () => {
  it("keeps clickhouse-js's parsed code and type", () => {
    const e = toClickHouseError(new ClientError({ message: 'Memory limit (total) exceeded', code: '241', type: 'MEMORY_LIMIT_EXCEEDED' }), { table: 't' })
    assert.ok(e instanceof ClickHouseError)
    assert.equal(e.chCode, 241)
    assert.equal(e.type, 'MEMORY_LIMIT_EXCEEDED')
    assert.equal(e.retriable, true)
    assert.equal(e.message, 'ClickHouse error 241 (MEMORY_LIMIT_EXCEEDED): Memory limit (total) exceeded')
    assert.deepEqual(e.toJSON(), {
      name: 'ClickHouseError',
      code: 'CLICKHOUSE_ERROR',
      message: 'ClickHouse error 241 (MEMORY_LIMIT_EXCEEDED): Memory limit (total) exceeded',
      retriable: true,
      table: 't',
      chCode: 241,
      type: 'MEMORY_LIMIT_EXCEEDED',
    })
  })

  it('finds the code in a chdb error that only carries text, through the cause chain', () => {
    const native = Object.assign(new Error('Code: 252. DB::Exception: Too many parts (600). (TOO_MANY_PARTS)'), { code: 'CHDB_QUERY' })
    const e = toClickHouseError(new Error('insert failed', { cause: native }))
    assert.equal(e.chCode, 252)
    assert.equal(e.type, 'TOO_MANY_PARTS')
    assert.equal(e.retriable, true)
  })

  it("uses chdb's clickhouseCode field", () => {
    const e = toClickHouseError(Object.assign(new Error('boom'), { clickhouseCode: 159, code: 'CHDB_QUERY' }))
    assert.equal(e.chCode, 159)
    assert.equal(e.type, 'TIMEOUT_EXCEEDED')
    assert.equal(e.retriable, true)
  })

  it('parses an 18.16 server error that clickhouse-js could not parse', () => {
    const e = toClickHouseError(new Error('Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected " before: .000Z: (at row 1)\n, e.what() = DB::Exception\n'))
    assert.equal(e.chCode, 27)
    assert.equal(e.type, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED')
    assert.equal(e.retriable, false)
    assert.equal(e.message, 'ClickHouse error 27 (CANNOT_PARSE_INPUT_ASSERTION_FAILED): Cannot parse input: expected " before: .000Z: (at row 1)')
  })

  it('marks a refused connection retriable, without a ClickHouse code', () => {
    const e = toClickHouseError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))
    assert.equal(e.retriable, true)
    assert.equal(e.chCode, undefined)
    assert.equal(e.message, 'ClickHouse request failed: connect ECONNREFUSED 127.0.0.1:1')
  })

  it('passes a ClickHouseError through and merges the context', () => {
    const original = new ClickHouseError('x', { chCode: 252, retriable: true })
    const e = toClickHouseError(original, { table: 't' })
    assert.equal(e, original)
    assert.equal(e.context.table, 't')
  })
})

describe('isRetriableError', () => {
  const ch = (code: number): Error => new Error(`Code: ${code}. DB::Exception: something. (X_X_X)`)

  for (const code of [3, 159, 164, 202, 203, 209, 210, 225, 236, 241, 242, 244, 252, 285, 319, 425, 999]) {
    it(`retries ClickHouse code ${code}`, () => assert.equal(isRetriableError(ch(code)), true))
  }

  for (const code of [6, 26, 27, 38, 41, 53, 60, 62, 70, 72, 117, 349, 497, 516]) {
    it(`does not retry ClickHouse code ${code} (data, schema, syntax or access)`, () => assert.equal(isRetriableError(ch(code)), false))
  }

  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']) {
    it(`retries socket error ${code}`, () => assert.equal(isRetriableError(Object.assign(new Error(code), { code })), true))
  }

  it('retries "socket hang up" and the client timeout', () => {
    assert.equal(isRetriableError(new Error('socket hang up')), true)
    assert.equal(isRetriableError(new Error('Timeout error.')), true)
  })

  it('never retries programmer errors, even with a retriable-looking message', () => {
    assert.equal(isRetriableError(new TypeError('socket hang up')), false)
    assert.equal(isRetriableError(new RangeError('Code: 252. DB::Exception: x (TOO_MANY_PARTS)')), false)
  })

  it('does not retry an aborted request', () => {
    assert.equal(isRetriableError(Object.assign(new Error('The user aborted a request.'), { name: 'AbortError' })), false)
  })

  it('does not retry unknown errors', () => {
    assert.equal(isRetriableError(new Error('ChdbConnection is closed')), false)
  })
})
