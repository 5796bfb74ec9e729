/**
 * Per-message processing: decode the JSON array, validate each record against the stream's
 * schema (ajv, compiled once per schema), run the stream's table sync, transforms and
 * consumers, and sort every record into exactly one outcome per destination: a row to
 * insert, a record to produce, a dead-letter entry, or filtered.
 *
 * Runs inside a transform worker (worker.ts) so user code uses the worker pool's cores.
 */
import { compileValidator } from '../model/schema.ts'
import type { StreamLike, TransformDef } from '../model/types.ts'
import { describeErrors } from '../util/ajv-errors.ts'
import { messageOf } from '../errors.ts'
import type { DlqItem, TableRows, TopicRecords, WorkResult } from './types.ts'

const decoder = new TextDecoder('utf-8', { fatal: false })

class Outputs {
  private tables = new Map<string, { parts: string[]; count: number }>()
  private topics = new Map<string, string[]>()
  row(table: string, json: string): void {
    let t = this.tables.get(table)
    if (!t) this.tables.set(table, (t = { parts: [], count: 0 }))
    t.parts.push(json)
    t.count++
  }
  record(topic: string, json: string): void {
    let t = this.topics.get(topic)
    if (!t) this.topics.set(topic, (t = []))
    t.push(json)
  }
  tableRows(): TableRows[] {
    return [...this.tables].map(([table, t]) => ({ table, rows: t.parts.join('\n') + '\n', count: t.count }))
  }
  topicRecords(): TopicRecords[] {
    return [...this.topics].map(([topic, records]) => ({ topic, records }))
  }
}

/** Normalises a transform's return value to an array of output records. */
function outputsOf(result: unknown): unknown[] {
  if (result === null || result === undefined) return []
  return Array.isArray(result) ? result : [result]
}

async function runTransform(t: TransformDef, record: unknown, index: number, out: Outputs, dlq: DlqItem[]): Promise<number> {
  let produced: unknown[]
  try {
    produced = outputsOf(await t.fn(record))
  } catch (error) {
    dlq.push({ stage: 'transform', errorType: 'transform_error', reason: `transform to "${t.destination.name}" threw: ${messageOf(error)}`, index, record })
    return 0
  }
  const validate = compileValidator(t.destination.schema)
  let sent = 0
  for (const output of produced) {
    if (!validate(output)) {
      dlq.push({
        stage: 'transform',
        errorType: 'output_schema',
        reason: `transform output does not match "${t.destination.name}": ${describeErrors(validate.errors)}`,
        index,
        record: output,
      })
      continue
    }
    const json = JSON.stringify(output)
    if (t.destination.kind === 'table') out.row(t.destination.name, json)
    else out.record(t.destination.name, json)
    sent++
  }
  return sent
}

/**
 * Processes one message value for `stream`.
 * @returns counts, rows per table, records per destination topic and DLQ items. Never throws
 *   for bad input or a failing transform; those become DLQ items.
 */
export async function processMessage(stream: StreamLike, value: Uint8Array): Promise<WorkResult> {
  const started = performance.now()
  const text = decoder.decode(value)
  const dlq: DlqItem[] = []
  const out = new Outputs()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    dlq.push({ stage: 'decode', errorType: 'invalid_json', reason: `message is not valid JSON: ${messageOf(error)}`, raw: text })
    return { records: 1, tables: [], topics: [], dlq, filtered: 0, consumed: 0, durationMs: performance.now() - started }
  }
  if (!Array.isArray(parsed)) {
    const got = parsed === null ? 'null' : typeof parsed
    dlq.push({ stage: 'decode', errorType: 'not_json_array', reason: `message is not a JSON array (got ${got}); the ingest format is JSON_ARRAY`, raw: text })
    return { records: 1, tables: [], topics: [], dlq, filtered: 0, consumed: 0, durationMs: performance.now() - started }
  }
  const validate = compileValidator(stream.schema)
  const fanOut = stream.transforms.length + stream.consumers.length
  let filtered = 0
  let consumed = 0
  for (let index = 0; index < parsed.length; index++) {
    const record = parsed[index]
    if (!validate(record)) {
      dlq.push({ stage: 'validation', errorType: 'schema', reason: describeErrors(validate.errors), index, record })
      continue
    }
    let delivered = 0
    const dlqBefore = dlq.length
    // Each user function gets its own copy when several see the same record.
    const copy = fanOut > 1 ? () => structuredClone(record) : () => record
    if (stream.destination) {
      out.row(stream.destination.name, JSON.stringify(record))
      delivered++
    }
    for (const t of stream.transforms) {
      delivered += await runTransform(t, copy(), index, out, dlq)
    }
    for (const fn of stream.consumers) {
      try {
        await fn(copy())
        consumed++
        delivered++
      } catch (error) {
        dlq.push({ stage: 'transform', errorType: 'consumer_error', reason: `stream consumer threw: ${messageOf(error)}`, index, record })
      }
    }
    if (delivered === 0 && dlq.length === dlqBefore) filtered++
  }
  return {
    records: parsed.length,
    tables: out.tableRows(),
    topics: out.topicRecords(),
    dlq,
    filtered,
    consumed,
    durationMs: performance.now() - started,
  }
}
