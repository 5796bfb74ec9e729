/**
 * The sandbox's reader pool, with stub readers and a stub parse engine (module boundaries): a
 * reader whose query failed is closed and replaced before it serves another query, because chDB
 * answers the rows a stopped SELECT left in the session to the next query on it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ClickHouseClient } from '@clickhouse/client'
import { resolveSandboxOptions } from '../../../../src/clickhouse/sandbox/options.ts'
import { Sandbox, type ParseEngine } from '../../../../src/clickhouse/sandbox/sandbox.ts'
import { QueryError } from '../../../../src/errors.ts'

/** `EXPLAIN AST SELECT 1 AS one` as chDB 3.4 prints it. */
const SELECT_ONE_AST = 'SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 1)\n   ExpressionList (children 1)\n    Literal UInt64_1 (alias one)\n'

const parser: ParseEngine = {
  text: async (sql) => (sql.startsWith('EXPLAIN AST') ? SELECT_ONE_AST : ''),
  close: async () => undefined,
}

/** A reader that answers `rows`, or throws `failWith` (a ClickHouse result-limit error) once. */
class StubReader {
  closed = false
  queries = 0
  constructor(readonly name: string, public failWith?: Error) {}
  async query(): Promise<{ json: () => Promise<unknown[]> }> {
    assert.equal(this.closed, false, `${this.name} got a query after it was closed`)
    this.queries++
    const error = this.failWith
    this.failWith = undefined
    if (error) throw error
    return { json: async () => [{ one: 1, reader: this.name }] }
  }
  async close(): Promise<void> {
    this.closed = true
  }
}

const limitError = () => Object.assign(new Error('Limit for result exceeded, max rows: 100.00 thousand'), { code: '396', type: 'TOO_MANY_ROWS_OR_BYTES' })

function sandboxOf(readers: StubReader[], openReader?: () => Promise<StubReader>): Sandbox {
  return new Sandbox({
    database: 'fh',
    options: resolveSandboxOptions({}, { sessions: readers.length }),
    parser,
    readers: readers as unknown as ClickHouseClient[],
    ...(openReader ? { openReader: openReader as unknown as () => Promise<ClickHouseClient> } : {}),
  })
}

test('a reader whose query failed is closed and replaced; the next query runs on the new reader', async () => {
  const first = new StubReader('first', limitError())
  const opened: StubReader[] = []
  const sandbox = sandboxOf([first], async () => {
    const r = new StubReader(`fresh${opened.length}`)
    opened.push(r)
    return r
  })
  await assert.rejects(sandbox.query({ query: 'SELECT 1 AS one' }), (e: unknown) => e instanceof QueryError && /FLOWHOUSE_SQL_MAX_RESULT_ROWS/.test(e.message))
  assert.equal(first.closed, true, 'the failed reader is closed')
  assert.equal(opened.length, 1)
  assert.deepEqual(await sandbox.query({ query: 'SELECT 1 AS one' }), [{ one: 1, reader: 'fresh0' }])
  assert.equal(first.queries, 1, 'the failed reader served nothing after its failure')
  await sandbox.close()
  assert.equal(opened[0]!.closed, true, 'the sandbox closes the readers it opened')
})

test('when no new reader can be opened, the old one keeps serving', async () => {
  const only = new StubReader('only', limitError())
  const sandbox = sandboxOf([only], async () => {
    throw new Error('cannot open')
  })
  await assert.rejects(sandbox.query({ query: 'SELECT 1 AS one' }), QueryError)
  assert.equal(only.closed, false)
  assert.deepEqual(await sandbox.query({ query: 'SELECT 1 AS one' }), [{ one: 1, reader: 'only' }])
  await sandbox.close()
})

test('without openReader (server mode: one request per query) a failed reader is kept', async () => {
  const server = new StubReader('server', limitError())
  const sandbox = sandboxOf([server])
  await assert.rejects(sandbox.query({ query: 'SELECT 1 AS one' }), QueryError)
  assert.deepEqual(await sandbox.query({ query: 'SELECT 1 AS one' }), [{ one: 1, reader: 'server' }])
  await sandbox.close()
  assert.equal(server.closed, false, 'the handle, not the sandbox, closes the readers it was given')
})
