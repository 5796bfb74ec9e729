import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { diffColumns, normalizeType } from '../../../src/clickhouse/columns.ts'
import { sortingKeyText } from '../../../src/clickhouse/provision.ts'
import { storedSelect } from '../../../src/views/provision.ts'

const existing = [
  { name: 'id', type: 'String', defaultKind: '' },
  { name: 'delay', type: 'Int32', defaultKind: '' },
  { name: 'day', type: 'Date', defaultKind: 'MATERIALIZED' },
]

describe('diffColumns', () => {
  it('adds declared columns that do not exist yet', () => {
    assert.deepEqual(diffColumns(existing, [{ name: 'id', type: 'String' }, { name: 'delay', type: 'Int32' }, { name: 'distance', type: 'UInt32' }]), {
      add: [{ name: 'distance', type: 'UInt32' }],
      problems: [],
    })
  })

  it('reports a retyped and a removed column, each with the reason', () => {
    assert.deepEqual(diffColumns(existing, [{ name: 'id', type: 'LowCardinality(String)' }]), {
      add: [],
      problems: ['column "id" is String in ClickHouse but is declared as LowCardinality(String)', 'column "delay" exists in ClickHouse but is no longer declared'],
    })
  })

  it('ignores whitespace differences in types', () => {
    assert.equal(normalizeType("Enum8('a b' = 1, 'c' = 2)"), "Enum8('a b'=1,'c'=2)")
    assert.deepEqual(diffColumns([{ name: 'p', type: 'Decimal(10, 2)', defaultKind: '' }], [{ name: 'p', type: 'Decimal(10,2)' }]).problems, [])
  })
})

describe('stored view and key text', () => {
  it('takes the SELECT out of a stored CREATE MATERIALIZED VIEW', () => {
    assert.equal(
      storedSelect('CREATE MATERIALIZED VIEW default.mv TO default.t (`origin` String, `n` UInt64) AS SELECT origin, count() AS n FROM default.src GROUP BY origin'),
      'SELECT origin, count() AS n FROM default.src GROUP BY origin',
    )
  })

  it('reads sorting keys as 18.16 and 26.x print them', () => {
    assert.equal(sortingKeyText('id'), 'id')
    assert.equal(sortingKeyText('(id)'), 'id')
    assert.equal(sortingKeyText('id, ts'), 'id,ts')
    assert.equal(sortingKeyText('(a), (b)'), '(a),(b)')
    assert.equal(sortingKeyText('tuple()'), '')
  })
})
