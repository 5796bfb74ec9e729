import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { QueryError } from '../../../src/errors.ts'
import { buildViewQuery, type ViewQueryRequest } from '../../../src/views/query/builder.ts'

const columns = ['day', 'origin', 'flights']
const build = (request: ViewQueryRequest) => buildViewQuery('daily', 'db', 'daily_data', columns, request, { defaultLimit: 100, maxLimit: 1000 })

describe('query helper bounds', () => {
  test('operator keys inherited from Object.prototype (constructor, valueOf, __proto__) are unknown conditions, never SQL', () => {
    for (const op of ['constructor', 'valueOf', 'toString', 'hasOwnProperty', '$constructor']) {
      assert.throws(
        () => build({ filter: { origin: { [op]: 'x' } } }),
        (e: unknown) => e instanceof QueryError && e.message.includes(`unknown condition "${op}"`),
        op,
      )
    }
  })

  test('nine hundred NOTs (within the 4000-character limit) are refused by the depth limit', () => {
    assert.throws(() => build({ filter: `${'NOT '.repeat(900)}flights > 1` }), (e: unknown) => e instanceof QueryError && /nested too deeply/.test(e.message))
  })

  test('a thousand unary minuses (within the 4000-character limit) are refused by the depth limit', () => {
    assert.throws(() => build({ filter: `flights > ${'- '.repeat(1_000)}flights` }), (e: unknown) => e instanceof QueryError && /nested too deeply/.test(e.message))
  })

  test('a few NOTs and minuses still parse', () => {
    const built = build({ filter: 'NOT NOT flights > - - 1' })
    assert.match(built.sql, /NOT/)
  })
})
