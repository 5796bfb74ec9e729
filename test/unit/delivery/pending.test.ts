import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parsePending, pendingMark, PENDING_PREFIX } from '../../../src/delivery/pending.ts'

describe('pendingMark', () => {
  it('is flowhouse:pending:<first>-<last> (contract "Delivery")', () => {
    assert.equal(pendingMark({ first: 100, last: 199 }), 'flowhouse:pending:100-199')
    assert.equal(PENDING_PREFIX, 'flowhouse:pending:')
  })
})

describe('parsePending', () => {
  it('reads back the range a pending commit wrote at its first offset', () => {
    for (const range of [{ first: 0, last: 0 }, { first: 100, last: 199 }, { first: 2 ** 40, last: 2 ** 40 + 5 }]) {
      assert.deepEqual(parsePending({ offset: String(range.first), metadata: pendingMark(range) }), range)
    }
  })

  it('finds nothing pending without a commit, without metadata, or after the final commit', () => {
    assert.equal(parsePending(undefined), undefined)
    assert.equal(parsePending({ offset: '-1', metadata: null }), undefined)
    assert.equal(parsePending({ offset: '200' }), undefined)
    assert.equal(parsePending({ offset: '200', metadata: '' }), undefined)
  })

  it('ignores a mark that is not at the committed offset (a later commit kept old metadata)', () => {
    assert.equal(parsePending({ offset: '200', metadata: pendingMark({ first: 100, last: 199 }) }), undefined)
    assert.equal(parsePending({ offset: '99', metadata: pendingMark({ first: 100, last: 199 }) }), undefined)
  })

  it('refuses malformed or foreign metadata', () => {
    for (const metadata of [
      'flowhouse:pending:',
      'flowhouse:pending:100',
      'flowhouse:pending:100-',
      'flowhouse:pending:-199',
      'flowhouse:pending:100-199x',
      'flowhouse:pending: 100-199',
      'flowhouse:pending:100-199\n',
      'flowhouse:pending:1e2-199',
      'flowhouse:pending:-100-199',
      'flowhouse:pending:100:199',
      'flowhouse:pending:100-99',
      'FLOWHOUSE:PENDING:100-199',
      'other:pending:100-199',
      '100-199',
    ]) {
      assert.equal(parsePending({ offset: '100', metadata }), undefined, metadata)
    }
  })
})
