import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { renderSource, sourceTemplate, withSourceFilter } from '../../../src/views/template.ts'

describe('sourceTemplate', () => {
  test('marks every FROM and JOIN of the source, qualified or quoted, outside strings and comments', () => {
    assert.equal(
      sourceTemplate('v', "SELECT a FROM flights WHERE x = 'FROM flights' -- FROM flights\n GROUP BY a", 'flights', 'db'),
      "SELECT a FROM {source_table} WHERE x = 'FROM flights' -- FROM flights\n GROUP BY a",
    )
    assert.equal(sourceTemplate('v', 'SELECT * FROM `db`.`flights` AS f JOIN db.flights g ON f.id = g.id', 'flights', 'db'), 'SELECT * FROM {source_table} AS f JOIN {source_table} g ON f.id = g.id')
    assert.equal(sourceTemplate('v', 'select 1 from "flights"', 'flights', 'db'), 'select 1 from {source_table}')
  })

  test('does not take a longer name for the source', () => {
    assert.equal(sourceTemplate('v', 'SELECT 1 FROM flights_2001 JOIN flights USING id', 'flights', 'db'), 'SELECT 1 FROM flights_2001 JOIN {source_table} USING id')
  })

  test('keeps a SELECT that already has the placeholder', () => {
    assert.equal(sourceTemplate('v', 'SELECT 1 FROM {source_table}', 'flights', 'db'), 'SELECT 1 FROM {source_table}')
  })

  test('refuses a SELECT that never reads its source', () => {
    assert.throws(() => sourceTemplate('v', 'SELECT 1 FROM other', 'flights', 'db'), {
      message: 'view "v": its SELECT never reads the source table "flights" after FROM or JOIN; write FROM flights (or FROM {source_table}) in the SELECT',
    })
  })
})

describe('renderSource', () => {
  test('puts the table, or a subquery aliased only when the SELECT does not alias the source', () => {
    const make = (own: boolean) => `(sub)${own ? '' : ' AS s'}`
    assert.equal(renderSource('SELECT 1 FROM {source_table} GROUP BY a', make), 'SELECT 1 FROM (sub) AS s GROUP BY a')
    assert.equal(renderSource('SELECT 1 FROM {source_table} AS f', make), 'SELECT 1 FROM (sub) AS f')
    assert.equal(renderSource('SELECT 1 FROM {source_table} f WHERE 1', make), 'SELECT 1 FROM (sub) f WHERE 1')
    assert.equal(renderSource("SELECT '{source_table}' FROM {source_table}", '`db`.`t`'), "SELECT '{source_table}' FROM `db`.`t`")
  })
})

describe('withSourceFilter', () => {
  test('adds WHERE before GROUP BY, ORDER BY or the end', () => {
    assert.equal(withSourceFilter('SELECT a, count() FROM {source_table} GROUP BY a', 'id > 5'), 'SELECT a, count() FROM {source_table} WHERE id > 5 GROUP BY a')
    assert.equal(withSourceFilter('SELECT a FROM {source_table}', 'id > 5'), 'SELECT a FROM {source_table} WHERE id > 5')
  })

  test('ANDs an existing WHERE, whose strings and subqueries are left alone', () => {
    assert.equal(
      withSourceFilter("SELECT a FROM {source_table} AS f WHERE x = 'GROUP BY' OR y IN (SELECT 1 ORDER BY 1) ORDER BY a", 'id > 5'),
      "SELECT a FROM {source_table} AS f WHERE (id > 5) AND (x = 'GROUP BY' OR y IN (SELECT 1 ORDER BY 1)) ORDER BY a",
    )
  })

  test('filters the subquery that reads the source', () => {
    assert.equal(withSourceFilter('SELECT a FROM (SELECT * FROM {source_table}) GROUP BY a', 'id > 5'), 'SELECT a FROM (SELECT * FROM {source_table} WHERE id > 5) GROUP BY a')
  })
})
