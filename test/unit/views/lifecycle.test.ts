import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createBody } from '../../../src/cli/mv.ts'
import { statusOf } from '../../../src/http/mv.ts'
import { ConfigError, QueryError, RefreshError, ViewNotFoundError } from '../../../src/errors.ts'
import { batchToken, dedupSettings, planBlockBatches } from '../../../src/views/backfill.ts'
import { clustersFrom, pickCluster } from '../../../src/views/cluster.ts'
import { definitionFromRequest, objectsOf } from '../../../src/views/definition.ts'
import { progressPercent, withTotals } from '../../../src/views/jobs.ts'
import { baseType, insertIntoRegex, positionSql, rangePredicate } from '../../../src/views/source.ts'
import { computeStatus } from '../../../src/views/status.ts'
import type { ViewJob } from '../../../src/views/types.ts'

const request = { name: 'by_origin', source_table: 'flights', engine: 'SummingMergeTree()', order_by: ['origin'], select_query: 'SELECT origin, count() AS flights FROM {source_table} GROUP BY origin' }

describe('views from API requests (the documented request shape)', () => {
  test('defaults the target to <name>_data and keeps the {source_table} template', () => {
    const def = definitionFromRequest(request, 'db')
    assert.equal(def.origin, 'api')
    assert.equal(def.template, request.select_query)
    assert.deepEqual(def.target, { name: 'by_origin_data', engine: 'SummingMergeTree', orderByFields: ['origin'] })
    assert.deepEqual(def.refresh, { mode: 'streaming', timezone: 'UTC', strategy: 'replace', gracePeriodSeconds: 0 })
    assert.equal(def.backfill, true)
    assert.deepEqual(objectsOf(def, null), { target: 'by_origin_data', readable: 'by_origin_data', mv: 'by_origin' })
    assert.deepEqual(objectsOf(def, 'c'), { target: 'by_origin_data', readable: 'by_origin_dist', mv: 'by_origin', dist: 'by_origin_dist' })
  })

  test('a declarative request becomes a declarative view whose query view is read', () => {
    const def = definitionFromRequest({ name: 'stats', source_table: 'flights', group_by: ['origin'], compute: { n: { count: '*' } }, refresh: { mode: 'scheduled', schedule: '0 * * * *', grace_period: '1h' } }, 'db')
    assert.equal(def.template, 'SELECT `origin`, countState() AS `n` FROM {source_table} GROUP BY `origin`')
    assert.equal(def.refresh.gracePeriodSeconds, 3600)
    assert.deepEqual(objectsOf(def, null), { target: 'stats_state', readable: 'stats', queryView: 'stats' })
  })

  test('refuses malformed requests with the field and the fix', () => {
    assert.throws(() => definitionFromRequest({ ...request, name: undefined }, 'db'), { message: 'name is required' })
    assert.throws(() => definitionFromRequest({ ...request, engine: 'Memory' }, 'db'), {
      message: 'engine must be one of MergeTree, ReplacingMergeTree, SummingMergeTree, AggregatingMergeTree (got "Memory"); engine parameters are not accepted — ORDER BY comes from order_by',
    })
    assert.throws(() => definitionFromRequest({ ...request, order_by: undefined }, 'db'), { message: 'order_by is required: the ORDER BY columns of the target table' })
    assert.throws(() => definitionFromRequest({ ...request, select_query: 'DROP TABLE flights' }, 'db'), ConfigError)
    assert.throws(() => definitionFromRequest({ ...request, sql: 'x' } as never, 'db'), { message: /^unknown field\(s\) "sql"; accepted: name, source_table/ })
    assert.throws(() => definitionFromRequest({ ...request, name: 'by origin' }, 'db'), { message: /^view "by origin": the name must match/ })
    assert.throws(() => definitionFromRequest({ ...request, group_by: ['origin'], compute: { n: { count: '*' } } }, 'db'), { message: 'select_query does not apply to a declarative view (group_by and compute generate the SELECT and the target)' })
  })
})

describe('backfill batches', () => {
  test('group whole insert blocks into batches of at least batchRows rows', () => {
    const blocks = [
      { b: 1, n: 100 },
      { b: 2, n: 50 },
      { b: 4, n: 200 },
      { b: 9, n: 10 },
    ]
    assert.deepEqual(planBlockBatches(blocks, 120), [
      { hi: '2', rows: 150 },
      { hi: '4', rows: 200 },
      { hi: '9', rows: 10 },
    ])
    assert.deepEqual(planBlockBatches([], 10), [])
  })

  test('a batch is idempotent through its dedup token, where the engine has tokens', () => {
    assert.equal(batchToken('v', 3, 'local', null, '7'), 'flowhouse:mv:v:3:local:-7')
    const modern = { capabilities: { insertDeduplicationToken: true, deduplicateInsert: true, insertDeduplicate: true } } as never
    const old = { capabilities: { insertDeduplicationToken: false, deduplicateInsert: false, insertDeduplicate: true } } as never
    assert.deepEqual(dedupSettings(modern, 't'), { insert_deduplication_token: 't', deduplicate_insert: 'enable', max_insert_threads: 1 })
    assert.deepEqual(dedupSettings(old, 't'), {})
  })

  test('positions become typed predicates', () => {
    const blocks = { kind: 'insert_order' as const, column: null, type: null }
    const key = { kind: 'column' as const, column: 'id', type: 'LowCardinality(Nullable(String))' }
    assert.equal(rangePredicate(blocks, null, '12'), '_block_number <= 12')
    assert.equal(rangePredicate(blocks, '3', '12'), '_block_number > 3 AND _block_number <= 12')
    assert.equal(rangePredicate(key, "o'k", null), "`id` > CAST('o\\'k' AS String)")
    assert.equal(baseType('Nullable(DateTime64(3))'), 'DateTime64(3)')
    assert.equal(positionSql('12', { kind: 'column', column: 'id', type: 'UInt64' }), "CAST('12' AS UInt64)")
    assert.throws(() => positionSql('1; DROP', blocks), SyntaxError)
  })

  test('the drain recognises INSERTs into the source only', () => {
    const re = new RegExp(insertIntoRegex('db', 'flights').replace('(?i)', ''), 'i')
    assert.ok(re.test('INSERT INTO `db`.`flights` SETTINGS x = 1 FORMAT JSONEachRow'))
    assert.ok(re.test('insert into flights (a, b) values'))
    assert.ok(!re.test('INSERT INTO `db`.`flights_daily` FORMAT JSONEachRow'))
    assert.ok(!re.test("SELECT 'INSERT INTO flights'"))
  })
})

describe('jobs', () => {
  test('progress is processed / total in percent, 100 when there is nothing to do', () => {
    assert.equal(progressPercent(35_000, 50_000), 70)
    assert.equal(progressPercent(1, 3), 33.3)
    assert.equal(progressPercent(0, 0), 100)
  })

  test('totals are summed over nodes', () => {
    const job = withTotals({ status: 'backfilling', nodes: [{ node: 'a', total_rows: 10, processed_rows: 5, last_position: '1' }, { node: 'b', total_rows: 30, processed_rows: 5, last_position: '2' }], last_position: null } as unknown as ViewJob)
    assert.deepEqual([job.total_rows, job.processed_rows, job.progress_percent, job.last_position], [40, 10, 25, null])
  })
})

describe('clusters', () => {
  const rows = [
    { cluster: 'fh_cluster', shard_num: 2, replica_num: 1, host_name: '127.0.0.1', port: 9032 },
    { cluster: 'fh_cluster', shard_num: 1, replica_num: 1, host_name: '127.0.0.1', port: 9031 },
    { cluster: 'fh_cluster', shard_num: 1, replica_num: 2, host_name: '127.0.0.2', port: 9031 },
    { cluster: 'test_shard_localhost', shard_num: 1, replica_num: 1, host_name: 'localhost', port: 9000 },
  ]
  test('auto takes the one cluster that is not a test_ sample; the first replica of every shard is a node', () => {
    assert.deepEqual(pickCluster('auto', clustersFrom(rows)), { name: 'fh_cluster', nodes: ['127.0.0.1:9031', '127.0.0.1:9032'] })
    assert.equal(pickCluster('auto', clustersFrom([])), null)
    assert.equal(pickCluster(undefined, clustersFrom(rows)), null)
  })
  test('an unknown or ambiguous cluster is a configuration error', () => {
    assert.throws(() => pickCluster('nope', clustersFrom(rows)), { message: 'cluster "nope" is not in system.clusters (known: "fh_cluster", "test_shard_localhost"); configure it in remote_servers or leave cluster out' })
    assert.throws(() => pickCluster('auto', clustersFrom([...rows, { ...rows[0]!, cluster: 'other' }])), { message: 'cluster "auto" is ambiguous: system.clusters lists "fh_cluster", "other"; name the cluster instead' })
  })
})

describe('status', () => {
  const job = (over: Partial<ViewJob>, mode: 'streaming' | 'scheduled' | 'manual' = 'manual'): ViewJob =>
    ({ status: 'completed', created_at: '2026-01-01T00:00:00.000Z', source_version: 10, definition: { refresh: { mode, gracePeriodSeconds: 60 } }, ...over }) as unknown as ViewJob
  const now = Date.parse('2026-01-01T01:00:00.000Z')

  test('fresh while the source has nothing newer than the last refresh, however old it is', () => {
    const s = computeStatus({ job: job({}), refreshing: false, sourceVersion: 10, newerDataSinceMs: null, lastRefresh: '2025-06-01T00:00:00.000Z', nowMs: now })
    assert.deepEqual([s.state, s.staleSince, s.stalenessSeconds, s.usable], ['fresh', null, 0, true])
  })

  test('stale since the source got newer data; usable within the grace period', () => {
    const s = computeStatus({ job: job({}), refreshing: false, sourceVersion: 12, newerDataSinceMs: now - 30_000, lastRefresh: null, nowMs: now })
    assert.deepEqual([s.state, s.staleSince, s.stalenessSeconds, s.usable], ['stale', '2026-01-01T00:59:30.000Z', 30, true])
    const late = computeStatus({ job: job({}), refreshing: false, sourceVersion: 12, newerDataSinceMs: now - 120_000, lastRefresh: null, nowMs: now })
    assert.equal(late.usable, false)
  })

  test('refreshing while built or refreshed; a streaming view is fresh once backfilled', () => {
    assert.equal(computeStatus({ job: job({ status: 'backfilling' }, 'streaming'), refreshing: false, sourceVersion: 12, newerDataSinceMs: null, lastRefresh: null, nowMs: now }).state, 'refreshing')
    assert.equal(computeStatus({ job: job({}), refreshing: true, sourceVersion: 12, newerDataSinceMs: null, lastRefresh: null, nowMs: now }).state, 'refreshing')
    assert.equal(computeStatus({ job: job({ source_version: null }, 'streaming'), refreshing: false, sourceVersion: 99, newerDataSinceMs: null, lastRefresh: null, nowMs: now }).state, 'fresh')
  })
})

describe('surfaces', () => {
  test('HTTP statuses of the view errors', () => {
    assert.equal(statusOf(new ViewNotFoundError('x')), 404)
    assert.equal(statusOf(new QueryError('bad')), 400)
    assert.equal(statusOf(new ConfigError('bad')), 400)
    assert.equal(statusOf(new RefreshError('busy', { context: { conflict: true } })), 409)
    assert.equal(statusOf(new RefreshError('down', { retriable: true })), 503)
    assert.equal(statusOf(new Error('?')), 500)
  })

  test('flowhouse mv create builds the documented request body', () => {
    assert.deepEqual(
      createBody({ name: 'v', source: 'flights', query: 'SELECT 1 FROM {source_table}', engine: 'SummingMergeTree', orderBy: 'origin, day', columns: 'origin:String,amount:Decimal(18, 2)', refresh: 'scheduled', schedule: '0 * * * *', grace: '15m', backfill: true }),
      {
        name: 'v',
        source_table: 'flights',
        select_query: 'SELECT 1 FROM {source_table}',
        engine: 'SummingMergeTree',
        order_by: ['origin', 'day'],
        columns: [
          { name: 'origin', type: 'String' },
          { name: 'amount', type: 'Decimal(18, 2)' },
        ],
        refresh: { mode: 'scheduled', schedule: '0 * * * *', grace_period: '15m' },
      },
    )
  })
})
