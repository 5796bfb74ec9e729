import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Capabilities } from '../../../src/clickhouse/types.ts'
import { countRows, insertSettings } from '../../../src/clickhouse/writer.ts'

const chdb: Capabilities = {
  insertDeduplicationToken: true,
  nonReplicatedDedupWindow: true,
  dedupDependentViews: true,
  insertDeduplicate: true,
  deduplicateInsert: true,
  describeQuery: true,
  queryParameters: true,
  dateTimeBestEffort: true,
  skipUnknownFields: true,
  formatQuery: true,
}
const server1816: Capabilities = {
  insertDeduplicationToken: false,
  nonReplicatedDedupWindow: false,
  dedupDependentViews: false,
  insertDeduplicate: true,
  deduplicateInsert: false,
  describeQuery: true,
  queryParameters: false,
  dateTimeBestEffort: true,
  skipUnknownFields: true,
  formatQuery: false,
}

describe('insertSettings', () => {
  it('sends the token with dedup in dependent views on engines that have them', () => {
    assert.deepEqual(insertSettings({ capabilities: chdb }, 'flights:flights:0:0-9'), {
      date_time_input_format: 'best_effort',
      input_format_skip_unknown_fields: 1,
      deduplicate_insert: 'enable',
      insert_deduplication_token: 'flights:flights:0:0-9',
      deduplicate_blocks_in_dependent_materialized_views: 1,
    })
  })

  it('switches dedup off for an insert without a token, so identical batches are both written', () => {
    assert.deepEqual(insertSettings({ capabilities: chdb }), {
      date_time_input_format: 'best_effort',
      input_format_skip_unknown_fields: 1,
      deduplicate_insert: 'disable',
    })
  })

  it('uses insert_deduplicate on releases before deduplicate_insert existed', () => {
    const v24 = { ...chdb, deduplicateInsert: false }
    assert.equal(insertSettings({ capabilities: v24 }).insert_deduplicate, 0)
    assert.equal(insertSettings({ capabilities: v24 }, 't:t:0:0-0').insert_deduplicate, 1)
  })

  it('sends no dedup settings to 18.16, which has neither token nor window', () => {
    const expected = { date_time_input_format: 'best_effort', input_format_skip_unknown_fields: 1 }
    assert.deepEqual(insertSettings({ capabilities: server1816 }, 't:t:0:0-1'), expected)
    assert.deepEqual(insertSettings({ capabilities: server1816 }), expected)
  })
})

describe('countRows', () => {
  it('counts non-blank lines, with or without a final newline', () => {
    assert.equal(countRows(''), 0)
    assert.equal(countRows('\n \n'), 0)
    assert.equal(countRows('{"a":1}'), 1)
    assert.equal(countRows('{"a":1}\n{"a":2}\n'), 2)
    assert.equal(countRows('{"a":1}\r\n\r\n{"a":2}'), 2)
  })
})
