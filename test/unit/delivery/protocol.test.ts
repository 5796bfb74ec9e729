import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { afterEach, describe, it } from 'node:test'
import { PartitionBatch } from '../../../src/delivery/batch.ts'
import { deliverBatch, type BatchOrigin, type DeliveryLog, type DeliveryPort } from '../../../src/delivery/protocol.ts'
import { metrics } from '../../../src/metrics/metrics.ts'
import type { DlqItem } from '../../../src/model/dlq.ts'
import type { WorkResult } from '../../../src/transforms/types.ts'
import { armFailpoints, FailpointError, type FailpointName } from '../../../src/util/failpoints.ts'

afterEach(() => armFailpoints(undefined))

type Call =
  | { step: 'commit'; partition: number; offset: number; metadata: string | null }
  | { step: 'insert'; table: string; rows: string; token: string }
  | { step: 'produce'; destination: string; records: string[] }
  | { step: 'deadLetter'; groups: Array<{ offset: string; stages: string[] }> }

interface StubOptions {
  /** The port call that rejects (with `failure`), by step and, for inserts and produces, table or topic. */
  fail?: { step: Call['step']; name?: string }
  /** Rows ClickHouse refuses, per table. */
  refused?: Record<string, DlqItem[]>
  /** False: the pipeline turned the dead-letter queue off. */
  dlq?: boolean
}

const failure = new Error('the broker went away')

/** A port that records every call in order, as the consumer's kafkajs/ClickHouse side would receive it. */
function stubPort(o: StubOptions = {}): { port: DeliveryPort; calls: Call[] } {
  const calls: Call[] = []
  const failAt = (step: Call['step'], name?: string) => {
    if (o.fail?.step === step && (o.fail.name === undefined || o.fail.name === name)) throw failure
  }
  const port: DeliveryPort = {
    commit: async (partition, offset, metadata) => {
      calls.push({ step: 'commit', partition, offset, metadata })
      failAt('commit')
    },
    insert: async (table, rows, token) => {
      calls.push({ step: 'insert', table, rows: Buffer.from(rows).toString(), token })
      failAt('insert', table)
      const refused = o.refused?.[table] ?? []
      return { written: Buffer.from(rows).toString().split('\n').filter(Boolean).length - refused.length, rejected: refused }
    },
    produce: async (destination, records) => {
      calls.push({ step: 'produce', destination, records })
      failAt('produce', destination)
    },
    deadLetter:
      o.dlq === false
        ? undefined
        : async (groups) => {
            calls.push({ step: 'deadLetter', groups: groups.map((g) => ({ offset: g.source.offset, stages: [...g.items.map((i) => i.stage), ...(g.texts ?? []).map(() => 'text')] })) })
            failAt('deadLetter')
          },
  }
  return { port, calls }
}

const quiet: DeliveryLog = { warn: () => undefined }

function result(extra: Partial<WorkResult> = {}): WorkResult {
  return { records: 1, tables: [], topics: [], dlq: [], filtered: 0, consumed: 0, durationMs: 1, ...extra }
}

const bad: DlqItem = { stage: 'validation', errorType: 'schema', reason: 'delay must be a number', index: 0, record: { delay: 'x' } }

/** Offsets 10..12 of partition 3: rows for tables `a` and `b`, records for stream `enriched`, one invalid record. */
function mixedBatch(pipeline: string): PartitionBatch {
  const b = new PartitionBatch()
  const source = (offset: number) => ({ pipeline, stream: 'flights', topic: 'flights', partition: 3, offset: String(offset) })
  b.add(10, 1_000, result({ tables: [{ table: 'a', rows: Buffer.from('{"id":1}\n'), count: 1 }] }), source(10))
  b.add(11, 1_001, result({ tables: [{ table: 'b', rows: Buffer.from('{"id":2}\n'), count: 1 }, { table: 'a', rows: Buffer.from('{"id":3}\n'), count: 1 }], topics: [{ topic: 'enriched', records: ['{"id":2}'] }] }), source(11))
  b.add(12, 1_002, result({ dlq: [bad] }), source(12))
  return b
}

function origin(pipeline: string): BatchOrigin {
  return { pipeline, stream: 'flights', topic: 'flights', partition: 3 }
}

const unique = () => `unit-${randomUUID()}`

async function counterValue(metric: { get(): Promise<{ values: Array<{ labels: Record<string, unknown>; value: number }> }> }, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get()
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0)
}

describe('deliverBatch', () => {
  it('commits the pending mark before any insert, and last + 1 only after the inserts, produces and dead letters', async () => {
    const { port, calls } = stubPort()
    await deliverBatch(port, mixedBatch('p'), origin('p'), quiet)
    assert.deepEqual(calls, [
      { step: 'commit', partition: 3, offset: 10, metadata: 'flowhouse:pending:10-12' },
      { step: 'insert', table: 'a', rows: '{"id":1}\n{"id":3}\n', token: 'a:flights:3:10-12' },
      { step: 'insert', table: 'b', rows: '{"id":2}\n', token: 'b:flights:3:10-12' },
      { step: 'produce', destination: 'enriched', records: ['{"id":2}'] },
      { step: 'deadLetter', groups: [{ offset: '12', stages: ['validation'] }] },
      { step: 'commit', partition: 3, offset: 13, metadata: null },
    ])
  })

  it('inserts a range re-formed after a failure with the same tokens, and another range with other tokens', async () => {
    const tokens = async (b: PartitionBatch) => {
      const { port, calls } = stubPort()
      await deliverBatch(port, b, origin('p'), quiet)
      return calls.flatMap((c) => (c.step === 'insert' ? [c.token] : []))
    }
    const first = await tokens(mixedBatch('p'))
    assert.deepEqual(await tokens(mixedBatch('p')), first)
    const longer = mixedBatch('p')
    longer.add(13, 1_003, result({ tables: [{ table: 'a', rows: Buffer.from('{"id":4}\n'), count: 1 }] }))
    assert.deepEqual(await tokens(longer), ['a:flights:3:10-13', 'b:flights:3:10-13'])
  })

  it('inserts a replayed dead letter with the token naming the entry, not the ingest offsets', async () => {
    const b = new PartitionBatch()
    b.add(57, 1_000, result({ tables: [{ table: 'a', rows: Buffer.from('{"id":1}\n'), count: 1 }] }))
    b.replay = 'flights.dlq:0:5'
    const { port, calls } = stubPort()
    await deliverBatch(port, b, origin('p'), quiet)
    assert.deepEqual(calls.filter((c) => c.step === 'insert').map((c) => c.step === 'insert' && c.token), ['a:replay:flights.dlq:0:5'])
    assert.deepEqual(calls[0], { step: 'commit', partition: 3, offset: 57, metadata: 'flowhouse:pending:57-57' })
  })

  for (const fail of [
    { step: 'insert', name: 'a', before: ['commit', 'insert'] },
    { step: 'insert', name: 'b', before: ['commit', 'insert', 'insert'] },
    { step: 'produce', before: ['commit', 'insert', 'insert', 'produce'] },
    { step: 'deadLetter', before: ['commit', 'insert', 'insert', 'produce', 'deadLetter'] },
    { step: 'commit', before: ['commit'] },
  ] as const) {
    it(`a ${fail.step}${'name' in fail ? ` into ${fail.name}` : ''} that throws stops the batch: the error reaches the caller and nothing after it runs, the final commit least of all`, async () => {
      const pipeline = unique()
      const { port, calls } = stubPort({ fail })
      await assert.rejects(deliverBatch(port, mixedBatch(pipeline), origin(pipeline), quiet), (error) => error === failure)
      assert.deepEqual(calls.map((c) => c.step), fail.before)
      assert.equal(await counterValue(metrics.batches, { pipeline }), 0, 'the batch is not counted as flushed')
    })
  }

  it('still commits a batch with nothing to insert, produce or dead-letter (every record filtered)', async () => {
    const pipeline = unique()
    const b = new PartitionBatch()
    b.add(4, 1_000, result({ filtered: 2, records: 2, filteredBy: { a: 2 } }))
    b.add(5, 1_000, result({ filtered: 1, filteredBy: { a: 1 } }))
    const { port, calls } = stubPort()
    await deliverBatch(port, b, origin(pipeline), quiet)
    assert.deepEqual(calls, [
      { step: 'commit', partition: 3, offset: 4, metadata: 'flowhouse:pending:4-5' },
      { step: 'commit', partition: 3, offset: 6, metadata: null },
    ])
    assert.equal(await counterValue(metrics.recordsFiltered, { pipeline, destination: 'a' }), 3)
    assert.equal(await counterValue(metrics.batches, { pipeline }), 1)
  })

  it('dead-letters the rows ClickHouse refused at stage insert, with the batch range as their offset, before the final commit', async () => {
    const pipeline = unique()
    const refused: DlqItem = { stage: 'insert', errorType: 'clickhouse_CANNOT_PARSE_TEXT', reason: 'ClickHouse refused the row for "b"', record: { id: 2 }, table: 'b' }
    const b = mixedBatch(pipeline)
    const { port, calls } = stubPort({ refused: { b: [refused] } })
    await deliverBatch(port, b, origin(pipeline), quiet)
    assert.deepEqual(calls.slice(-2), [
      { step: 'deadLetter', groups: [{ offset: '12', stages: ['validation'] }, { offset: '10-12', stages: ['insert'] }] },
      { step: 'commit', partition: 3, offset: 13, metadata: null },
    ])
    assert.equal(b.dlqCount, 2)
    assert.equal(await counterValue(metrics.recordsWritten, { pipeline, table: 'a' }), 2)
    assert.equal(await counterValue(metrics.recordsWritten, { pipeline, table: 'b' }), 0)
    assert.equal(await counterValue(metrics.recordsDeadLettered, { pipeline, stage: 'insert' }), 1)
    assert.equal(await counterValue(metrics.recordsDeadLettered, { pipeline, stage: 'validation' }), 1)
    assert.equal(await counterValue(metrics.recordsProduced, { pipeline, topic: 'enriched' }), 1)
    assert.equal(await counterValue(metrics.batches, { pipeline }), 1)
  })

  it('with the dead-letter queue off, counts the bad records, warns once with the first reason, and commits', async () => {
    const pipeline = unique()
    const warnings: Array<{ fields: Record<string, unknown>; message: string }> = []
    const { port, calls } = stubPort({ dlq: false })
    await deliverBatch(port, mixedBatch(pipeline), origin(pipeline), { warn: (fields, message) => warnings.push({ fields, message }) })
    assert.deepEqual(warnings, [{ fields: { count: 1, first: 'delay must be a number' }, message: 'dead-letter queue is off for this pipeline; bad records are counted and dropped' }])
    assert.equal(calls.some((c) => c.step === 'deadLetter'), false)
    assert.deepEqual(calls.at(-1), { step: 'commit', partition: 3, offset: 13, metadata: null })
    assert.equal(await counterValue(metrics.recordsDeadLettered, { pipeline, stage: 'validation' }), 1)
  })

  const range = { partition: 3, first: 10, last: 12, rows: 3 }
  for (const [name, context, before] of [
    ['delivery.after-pending-commit', range, ['commit']],
    ['delivery.after-insert', range, ['commit', 'insert', 'insert']],
    ['delivery.after-dlq', { ...range, dlq: 1 }, ['commit', 'insert', 'insert', 'produce', 'deadLetter']],
    ['delivery.before-final-commit', { ...range, dlq: 1 }, ['commit', 'insert', 'insert', 'produce', 'deadLetter']],
  ] as Array<[FailpointName, Record<string, number>, string[]]>) {
    it(`fires ${name} at its step with the batch's range: armed with error, the batch stops there without its final commit`, async () => {
      const pipeline = unique()
      armFailpoints(`${name}=error`)
      const { port, calls } = stubPort()
      await assert.rejects(deliverBatch(port, mixedBatch(pipeline), origin(pipeline), quiet), (error) => {
        assert.ok(error instanceof FailpointError)
        assert.deepEqual(error.context, { failpoint: name, ...context })
        return true
      })
      assert.deepEqual(calls.map((c) => c.step), before)
      // The outcome counters run between after-dlq and before-final-commit.
      const counted = await counterValue(metrics.recordsDeadLettered, { pipeline, stage: 'validation' })
      assert.equal(counted, name === 'delivery.before-final-commit' ? 1 : 0)
    })
  }
})
