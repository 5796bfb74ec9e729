import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { definitionFromRequest } from '../../../src/views/definition.ts'
import {
  createLikeSql,
  distributedTableSql,
  dropSql,
  enableBlockNumbersSql,
  exchangeSql,
  filteredSource,
  insertSelectSql,
  materializedViewSql,
  optimizeSql,
  queryViewSql,
  remoteTable,
  renameSwapSql,
  targetTableSql,
  truncateSql,
  type ViewDdlContext,
} from '../../../src/views/ddl.ts'

const single: ViewDdlContext = { database: 'db', dedupWindow: true, dedupWindowBlocks: 1000, cluster: null }
const clustered: ViewDdlContext = { database: 'db', dedupWindow: false, dedupWindowBlocks: 1000, cluster: 'fh_cluster' }
const def = definitionFromRequest(
  { name: 'by_origin', source_table: 'flights', engine: 'SummingMergeTree()', order_by: ['origin'], select_query: 'SELECT origin, count() AS flights FROM {source_table} GROUP BY origin' },
  'db',
)
const columns = [
  { name: 'origin', type: 'String' },
  { name: 'flights', type: 'UInt64' },
]

describe('view DDL on one server', () => {
  test('the target table carries the dedup window where the engine has one', () => {
    assert.equal(
      targetTableSql(def, columns, single),
      'CREATE TABLE IF NOT EXISTS `db`.`by_origin_data` (`origin` String, `flights` UInt64) ENGINE = SummingMergeTree ORDER BY (`origin`) SETTINGS non_replicated_deduplication_window = 1000',
    )
  })

  test('the MV writes TO its target', () => {
    assert.equal(materializedViewSql('by_origin', 'by_origin_data', 'SELECT 1', single), 'CREATE MATERIALIZED VIEW IF NOT EXISTS `db`.`by_origin` TO `db`.`by_origin_data` AS SELECT 1')
  })

  test('drops, truncation, OPTIMIZE FINAL, swaps and the block-number setting', () => {
    assert.equal(dropSql('x', single), 'DROP TABLE IF EXISTS `db`.`x`')
    assert.equal(truncateSql('x', single), 'TRUNCATE TABLE IF EXISTS `db`.`x`')
    assert.equal(optimizeSql('x', single), 'OPTIMIZE TABLE `db`.`x` FINAL')
    assert.equal(createLikeSql('x__fh_new', 'x', single), 'CREATE TABLE `db`.`x__fh_new` AS `db`.`x`')
    assert.equal(exchangeSql('x', 'x__fh_new', single), 'EXCHANGE TABLES `db`.`x` AND `db`.`x__fh_new`')
    assert.equal(renameSwapSql('x', 'x__fh_new', 'x__fh_old', single), 'RENAME TABLE `db`.`x` TO `db`.`x__fh_old`, `db`.`x__fh_new` TO `db`.`x`')
    assert.equal(enableBlockNumbersSql('flights', single), 'ALTER TABLE `db`.`flights` MODIFY SETTING enable_block_number_column = 1')
  })

  test('a backfill insert names its columns and puts its settings before the SELECT', () => {
    assert.equal(
      insertSelectSql('t', ['origin', 'flights'], 'SELECT origin, count() AS flights FROM s GROUP BY origin', { insert_deduplication_token: 'a:b', max_insert_threads: 1 }, single),
      "INSERT INTO `db`.`t` (`origin`, `flights`) SETTINGS insert_deduplication_token = 'a:b', max_insert_threads = 1 SELECT origin, count() AS flights FROM s GROUP BY origin",
    )
    assert.equal(insertSelectSql('t', ['a'], 'SELECT 1 AS a', {}, single), 'INSERT INTO `db`.`t` (`a`) SELECT 1 AS a')
  })

  test('a filtered source is a subquery aliased like the source, unless the SELECT aliases it', () => {
    assert.equal(filteredSource('`db`.`s`', '_block_number <= 5', 's'), '(SELECT * FROM `db`.`s` WHERE _block_number <= 5) AS `s`')
    assert.equal(filteredSource('`db`.`s`', '_block_number <= 5', null), '(SELECT * FROM `db`.`s` WHERE _block_number <= 5)')
    assert.equal(filteredSource('`db`.`s`', undefined, 's'), '`db`.`s`')
  })
})

describe('view DDL on a cluster (exact text run against the two-node cluster test)', () => {
  test('every statement runs ON CLUSTER and the Distributed table reads the target of every shard', () => {
    assert.equal(
      targetTableSql(def, columns, clustered),
      'CREATE TABLE IF NOT EXISTS `db`.`by_origin_data` ON CLUSTER `fh_cluster` (`origin` String, `flights` UInt64) ENGINE = SummingMergeTree ORDER BY (`origin`)',
    )
    assert.equal(materializedViewSql('by_origin', 'by_origin_data', 'SELECT 1', clustered), 'CREATE MATERIALIZED VIEW IF NOT EXISTS `db`.`by_origin` ON CLUSTER `fh_cluster` TO `db`.`by_origin_data` AS SELECT 1')
    assert.equal(
      distributedTableSql('by_origin_dist', 'by_origin_data', clustered),
      "CREATE TABLE IF NOT EXISTS `db`.`by_origin_dist` ON CLUSTER `fh_cluster` AS `db`.`by_origin_data` ENGINE = Distributed('fh_cluster', 'db', 'by_origin_data', rand())",
    )
    assert.equal(queryViewSql('v', 'SELECT 1', clustered), 'CREATE VIEW IF NOT EXISTS `db`.`v` ON CLUSTER `fh_cluster` AS SELECT 1')
    assert.equal(dropSql('by_origin_dist', clustered), 'DROP TABLE IF EXISTS `db`.`by_origin_dist` ON CLUSTER `fh_cluster`')
    assert.equal(truncateSql('by_origin_data', clustered), 'TRUNCATE TABLE IF EXISTS `db`.`by_origin_data` ON CLUSTER `fh_cluster`')
    assert.equal(optimizeSql('by_origin_data', clustered), 'OPTIMIZE TABLE `db`.`by_origin_data` ON CLUSTER `fh_cluster` FINAL')
  })

  test('a Distributed table needs a cluster', () => {
    assert.throws(() => distributedTableSql('d', 't', single), RangeError)
  })

  test('a node is read through remote()', () => {
    assert.equal(remoteTable('127.0.0.1:9031', 'db', 'flights'), "remote('127.0.0.1:9031', 'db', 'flights')")
  })
})
