/**
 * The chaos suite's short subset (test/chaos): a daemon killed with kill -9 mid-stream, the
 * negative control (a fresh data folder after the kill must show loss), a SIGTERM mid-stream,
 * and every poison message followed by valid rows that must be written within 60 s.
 * Each scenario prints its `scenario=... loss=... dup=...` line; the whole suite is `npm run chaos`.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatResult } from '../chaos/lib.ts'
import { passes, runScenarios, shortSuite } from '../chaos/scenarios.ts'

test('chaos short subset: no loss, no duplicate, no stall and no crash after kill -9, SIGTERM and each poison message; the negative control shows loss', { timeout: 900_000 }, async (t) => {
  for await (const result of runScenarios(shortSuite())) {
    const line = formatResult(result)
    console.log(line)
    await t.test(result.scenario.startsWith('negative-control') ? `${result.scenario} reports loss or dup` : `${result.scenario} holds`, () => {
      assert.ok(passes(result), line)
    })
  }
})
