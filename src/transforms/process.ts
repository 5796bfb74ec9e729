/**
 * Per-message processing: decode the JSON array, validate each record against the stream's
 * schema (ajv, compiled once per schema), evaluate the pipeline's constraints, run the stream's
 * table sync, transforms and consumers, and sort every record into its outcomes: rows to insert,
 * records to produce, dead-letter entries, constraint violations, or filtered.
 *
 * Runs inside a transform worker (worker.ts) so user code uses the worker pool's cores.
 */
import { ConstraintEvaluator } from '../constraints/evaluate.ts'
import { keyPaths } from '../model/keys.ts'
import { recordChecker, type TSchema } from '../model/schema.ts'
import type { DlqItem } from '../model/dlq.ts'
import type { StreamLike, TransformDef } from '../model/types.ts'
import { describeErrors, describeFieldErrors } from '../util/ajv-errors.ts'
import { messageOf } from '../errors.ts'
import { encodeLines } from '../util/lines.ts'
import { scanJson } from './bounds.ts'
import { outputCheck } from './copied.ts'
import { passesAsIs } from './passthrough.ts'
import { DEFAULT_BOUNDS, decodeMessage, rawFields, rejectedMessage, type Decoded } from './decode.ts'
import type { TableRows, TopicRecords, WorkBounds, WorkResult, WorkTask } from './types.ts'


/** Outputs of one message, optionally remembering which record each line came from. */
class Outputs {
  private tables = new Map<string, { parts: Array<string | Uint8Array>; sources: number[] }>()
  private topics = new Map<string, { records: string[]; sources: number[] }>()
  constructor(private readonly track: boolean) {}
  /** `json`: the row's text, or its UTF-8 bytes (a record passed through as it came). */
  row(table: string, json: string | Uint8Array, source: number): void {
    let t = this.tables.get(table)
    if (!t) this.tables.set(table, (t = { parts: [], sources: [] }))
    t.parts.push(json)
    if (this.track) t.sources.push(source)
  }
  record(topic: string, json: string, source: number): void {
    let t = this.topics.get(topic)
    if (!t) this.topics.set(topic, (t = { records: [], sources: [] }))
    t.records.push(json)
    if (this.track) t.sources.push(source)
  }
  tableRows(): TableRows[] {
    return [...this.tables].map(([table, t]) => ({ table, rows: encodeLines(t.parts), count: t.parts.length, ...(this.track ? { sources: t.sources } : {}) }))
  }
  topicRecords(): TopicRecords[] {
    return [...this.topics].map(([topic, t]) => ({ topic, records: t.records, ...(this.track ? { sources: t.sources } : {}) }))
  }
}

/** What one record produced, held back until the record is known to stay (one per message, emptied for each record). */
interface Staged {
  rows: Array<[string, string | Uint8Array]>
  records: Array<[string, string]>
  dlq: DlqItem[]
  /** Destinations whose transform returned null or [] for the record. */
  filteredBy: string[]
}

/** Normalises a transform's return value to an array of output records. */
function outputsOf(result: unknown): unknown[] {
  if (result === null || result === undefined) return []
  return Array.isArray(result) ? result : [result]
}

/**
 * A transform's output as it may cross back to the main thread: itself when its JSON text is
 * within the record bounds (scanned, no recursion), otherwise its text cut to `rawKeepBytes`
 * (or nothing when it cannot even be serialised: a cycle, or nesting too deep for JSON.stringify).
 */
function boundedOutput(output: unknown, bounds: WorkBounds): Pick<DlqItem, 'record' | 'raw' | 'truncated' | 'rawBytes' | 'rawSha256'> {
  let json: string | undefined
  try {
    json = JSON.stringify(output)
  } catch {
    return {}
  }
  if (json === undefined) return { record: output }
  const bytes = Buffer.from(json)
  const scan = scanJson(bytes, bounds)
  if (scan.depth <= bounds.maxDepth && bytes.length <= bounds.maxRecordBytes) return { record: output }
  return rawFields(bytes, bounds.rawKeepBytes, true)
}

/**
 * Runs transform `t` on one record and stages what it produced. Returns a promise only when the
 * transform returned one (an async transform); a synchronous transform is handled without one.
 * Rejects only with DEADLINE (an async transform over `limitMs`).
 */
function runTransform(t: TransformDef, record: unknown, index: number, staged: Staged, limitMs: number | undefined, bounds: WorkBounds, input: TSchema): void | Promise<void> {
  const check = outputCheck(input, t.destination.schema)
  const before = check.snapshot(record)
  let returned: unknown
  try {
    returned = t.fn(record)
  } catch (error) {
    return transformThrew(t, error, index, record, staged)
  }
  if (typeof (returned as PromiseLike<unknown> | null | undefined)?.then !== 'function') return stageOutputs(t, check, before, outputsOf(returned), index, staged, bounds)
  return settled(returned as PromiseLike<unknown>, limitMs).then(
    (value) => stageOutputs(t, check, before, outputsOf(value), index, staged, bounds),
    (error: unknown) => {
      if (error === DEADLINE) throw error
      transformThrew(t, error, index, record, staged)
    },
  )
}

/** What an async transform resolved to, under the processing limit when there is one. */
async function settled(returned: PromiseLike<unknown>, limitMs: number | undefined): Promise<unknown> {
  return returned instanceof Promise && limitMs !== undefined ? withDeadline(returned, limitMs) : await returned
}

function transformThrew(t: TransformDef, error: unknown, index: number, record: unknown, staged: Staged): void {
  staged.dlq.push({ stage: 'transform', errorType: 'transform_error', reason: `transform to "${t.destination.name}" threw: ${messageOf(error)}`, index, record })
}

/** Validates each output of a transform against its destination's schema and stages it as JSON text, or as a dead letter. */
function stageOutputs(t: TransformDef, check: ReturnType<typeof outputCheck>, before: readonly unknown[], produced: unknown[], index: number, staged: Staged, bounds: WorkBounds): void {
  if (produced.length === 0) staged.filteredBy.push(t.destination.name)
  for (const output of produced) {
    let json: string
    try {
      const validate = check.validatorFor(output, before)
      if (!validate(output)) {
        staged.dlq.push({ stage: 'transform', errorType: 'output_schema', reason: `transform output does not match "${t.destination.name}": ${describeErrors(validate.errors)}`, index, ...boundedOutput(output, bounds) })
        continue
      }
      json = JSON.stringify(output)
    } catch (error) {
      // A cycle, or nesting deep enough to overflow the validator or JSON.stringify.
      staged.dlq.push({ stage: 'transform', errorType: 'output_schema', reason: `transform output for "${t.destination.name}" cannot be validated or serialised: ${messageOf(error)}`, index })
      continue
    }
    if (t.destination.kind === 'table') staged.rows.push([t.destination.name, json])
    else staged.records.push([t.destination.name, json])
  }
}

const DEADLINE = Symbol('deadline')

/** Rejects with DEADLINE when `promise` has not settled after `ms` (an async transform over max_processing_time_ms). */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(DEADLINE), ms)))]).finally(() => clearTimeout(timer))
}

/**
 * Processes one message for `stream`: `value` decoded as a JSON array, or the records of
 * `decoded` when the message was decoded already (a schema registry message: registry.ts).
 * Records are validated against `schema`: the stream's own, or the one its writer schema is
 * read with (a schema registry message: evolution.ts).
 * @returns counts, rows per table, records per destination topic, DLQ items and constraint
 *   outcomes. Never throws for bad input or a failing transform; those become DLQ items.
 */
export async function processMessage(stream: StreamLike, value: Uint8Array, task: Partial<WorkTask> = {}, predecoded?: Decoded, schema: TSchema = stream.schema): Promise<WorkResult> {
  const started = performance.now()
  const bounds = task.bounds ?? DEFAULT_BOUNDS
  const decoded = predecoded ?? decodeMessage(value, bounds)
  if (!decoded.ok) return rejectedMessage(decoded.item, started)
  const parsed = decoded.records
  const dlq: DlqItem[] = decoded.dlq
  const skip = new Set(dlq.map((d) => d.index))
  const constraints = task.constraints && task.constraints.length > 0 ? new ConstraintEvaluator(task.constraints, keyPaths(stream.schema)[0]) : undefined
  const limitMs = constraints?.processingLimit?.ms
  const stuck = new Set(task.stuck ?? [])
  const progress = task.progress ? new Float64Array(task.progress) : undefined
  const out = new Outputs(constraints !== undefined && constraints.result !== undefined && task.constraints!.some((c) => c.type === 'rate' && c.action !== 'throttle'))
  const check = recordChecker(schema, stream.unknownFields)
  // Nothing but the validated record reaches the own table: its text may go as it came (passthrough.ts).
  const ranges = stream.transforms.length === 0 && stream.consumers.length === 0 && !constraints ? decoded.ranges : undefined
  const fanOut = stream.transforms.length + stream.consumers.length
  let filtered = 0
  const filteredBy: Record<string, number> = {}
  let consumed = 0
  let unknownFields = 0
  // Each user function gets its own copy when several see the same record.
  const copy = fanOut > 1 ? (record: unknown) => structuredClone(record) : (record: unknown) => record
  const staged: Staged = { rows: [], records: [], dlq: [], filteredBy: [] }
  const ownTable = stream.destination && stream.destination.name !== task.skipTable ? stream.destination : undefined
  for (let index = 0; index < parsed.length; index++) {
    if (skip.has(index)) continue
    const record = parsed[index]
    const checked = check(record)
    if (checked.outcome === 'invalid') {
      dlq.push({ stage: 'validation', errorType: checked.errorType, reason: describeFieldErrors(checked.errors), index, record })
      continue
    }
    if (checked.outcome === 'unknown_fields') unknownFields++
    if (constraints) {
      const verdict = constraints.evaluate(record as Record<string, unknown>, index)
      if (verdict !== 'keep') continue
      if (stuck.has(index)) {
        constraints.push(constraints.processingViolation(index, record, undefined))
        continue
      }
    }
    staged.rows.length = 0
    staged.records.length = 0
    staged.dlq.length = 0
    staged.filteredBy.length = 0
    if (ownTable) {
      const start = ranges?.[2 * index]
      const end = ranges?.[2 * index + 1]
      const asIs = start !== undefined && end !== undefined && ownTable.kind === 'table' && typeof record === 'object' && record !== null && passesAsIs(value, start, end, Object.keys(record).length)
      staged.rows.push([ownTable.name, asIs ? value.subarray(start, end) : JSON.stringify(record)])
    }
    if (progress) {
      progress[0] = index
      progress[1] = performance.timeOrigin + performance.now()
    }
    // A record's own clock is read only under a processing limit (max_processing_time_ms).
    const t0 = limitMs === undefined ? 0 : performance.now()
    let late = false
    try {
      for (const t of stream.transforms) {
        const pending = runTransform(t, copy(record), index, staged, limitMs, bounds, schema)
        if (pending) await pending
      }
      for (const fn of stream.consumers) {
        try {
          await fn(copy(record))
          consumed++
        } catch (error) {
          staged.dlq.push({ stage: 'transform', errorType: 'consumer_error', reason: `stream consumer threw: ${messageOf(error)}`, index, record })
        }
      }
    } catch (error) {
      if (error !== DEADLINE) throw error
      late = true
    }
    if (progress) progress[1] = 0
    if (limitMs !== undefined) {
      const elapsed = performance.now() - t0
      if (late || elapsed > limitMs) {
        // Over max_processing_time_ms: nothing this record produced is kept.
        constraints!.push(constraints!.processingViolation(index, record, elapsed))
        continue
      }
    }
    for (const [table, json] of staged.rows) out.row(table, json, index)
    for (const [topic, json] of staged.records) out.record(topic, json, index)
    if (ownTable?.kind === 'table') for (const d of staged.dlq) d.writtenTo = ownTable.name
    dlq.push(...staged.dlq)
    if (staged.filteredBy.length > 0) {
      for (const destination of staged.filteredBy) filteredBy[destination] = (filteredBy[destination] ?? 0) + 1
      filtered += staged.filteredBy.length
      const deferred = constraints?.result.deferred.at(-1)
      if (deferred?.index === index) deferred.filteredBy = [...staged.filteredBy]
    }
  }
  return {
    records: parsed.length,
    tables: out.tableRows(),
    topics: out.topicRecords(),
    dlq,
    filtered,
    filteredBy,
    consumed,
    ...(unknownFields > 0 ? { unknownFields } : {}),
    durationMs: performance.now() - started,
    ...(constraints ? { constraints: constraints.result } : {}),
  }
}
