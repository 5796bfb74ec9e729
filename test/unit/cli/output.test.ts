import assert from 'node:assert/strict'
import { test } from 'node:test'
import { apiTarget } from '../../../src/cli/api.ts'
import { queryBody } from '../../../src/cli/mv.ts'
import { formatTable } from '../../../src/cli/table.ts'

test('a CLI table has one column per key and no index column', () => {
  const text = formatTable([
    { origin: 'SFO', flights: 12 },
    { origin: 'LAX', flights: 7, note: { late: true } },
  ])
  assert.equal(text, ['origin  flights  note', '------  -------  -------------', 'SFO          12', 'LAX           7  {"late":true}'].join('\n'))
})

test('an empty CLI table says so', () => {
  assert.equal(formatTable([]), '(no rows)')
})

test('mv query keeps every --select, joins filters with AND and keeps a single filter as written', () => {
  assert.deepEqual(queryBody({ select: ['origin', 'sum(flights) AS flights'], filter: ["origin = 'SFO'", 'delay > 0'], groupBy: ['origin'], orderBy: [], limit: 5 }), {
    select: 'origin, sum(flights) AS flights',
    filter: "(origin = 'SFO') AND (delay > 0)",
    group_by: 'origin',
    limit: 5,
  })
  assert.deepEqual(queryBody({ filter: ['a = 1'] }), { filter: 'a = 1' })
})

test('--url wins over FLOWHOUSE_URL, which wins over the default', () => {
  assert.equal(apiTarget({ url: 'http://a:1' }, { FLOWHOUSE_URL: 'http://b:2' }).url, 'http://a:1')
  assert.equal(apiTarget({}, { FLOWHOUSE_URL: 'http://b:2' }).url, 'http://b:2')
  assert.equal(apiTarget({}, {}).url, 'http://127.0.0.1:4000')
})
