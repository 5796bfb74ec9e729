import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveConfig } from '../../../src/config.ts'
import { VIEWS_DEFAULTS } from '../../../src/views/options.ts'

test('the daemon configuration carries the view options, from FLOWHOUSE_MV_* over the defaults', () => {
  assert.deepEqual(resolveConfig({}).views, VIEWS_DEFAULTS)
  const views = resolveConfig({ FLOWHOUSE_MV_BATCH_ROWS: '200000', FLOWHOUSE_MV_BACKFILL_PAUSE_MS: '400', FLOWHOUSE_MV_STATUS_INTERVAL_MS: '500', FLOWHOUSE_MV_CLUSTER: 'auto' }).views
  assert.deepEqual(views, { ...VIEWS_DEFAULTS, batchRows: 200_000, backfillPauseMs: 400, statusIntervalMs: 500, cluster: 'auto' })
})

test('a FLOWHOUSE_MV_* variable out of range fails the configuration with its name and bound', () => {
  assert.throws(() => resolveConfig({ FLOWHOUSE_MV_STATUS_INTERVAL_MS: '50' }), { name: 'ConfigError', message: 'environment FLOWHOUSE_MV_STATUS_INTERVAL_MS="50": must be an integer ≥ 100 (ms)' })
})
