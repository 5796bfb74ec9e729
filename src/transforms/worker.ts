/**
 * Transform worker (a piscina worker thread). Imports the pipeline module that declares the
 * stream (once per module version), then processes messages with processMessage(). The stream's
 * pipeline `format` comes with it: a schema registry pipeline's messages are decoded through the
 * registry (registry.ts, one client per registry in each thread) into one record each, coerced to
 * the pipeline schema (normalize.ts), then go the JSON records' way.
 */
import { pathToFileURL } from 'node:url'
import { Piscina } from 'piscina'
import { collectDefinitions } from '../model/collect.ts'
import { registryOf } from '../model/format.ts'
import type { SchemaRegistryFormat, StreamLike } from '../model/types.ts'
import { DEFAULT_BOUNDS } from './decode.ts'
import { coerceToSchema } from './normalize.ts'
import { processMessage } from './process.ts'
import { writerView } from './evolution.ts'
import { decodeRegistryMessage, writerOf } from './registry.ts'
import type { WorkBatch, WorkLoad, WorkResult, WorkTask } from './types.ts'

interface Loaded {
  stream: StreamLike
  /** The pipeline's registry when its format is `{ schemaRegistry }`. */
  registry: SchemaRegistryFormat | undefined
}

const streams = new Map<string, Promise<Loaded>>()

async function loadStream(file: string, version: string, name: string): Promise<Loaded> {
  const mod = (await import(`${pathToFileURL(file).href}?v=${encodeURIComponent(version)}`)) as Record<string, unknown>
  const defs = collectDefinitions(file, mod)
  const pipeline = defs.pipelines.find((p) => p.name === name)
  const stream = defs.streams.find((s) => s.name === name) ?? pipeline?.stream
  if (!stream) throw new Error(`stream "${name}" is not declared by ${file}`)
  return { stream, registry: registryOf(pipeline?.format) }
}

/** The stream as this thread loaded it, loading its module on first use (a failed load is tried again next time). */
function loadedStream(file: string, version: string, name: string): Promise<Loaded> {
  const key = `${file}\0${version}\0${name}`
  let stream = streams.get(key)
  if (!stream) {
    stream = loadStream(file, version, name)
    streams.set(key, stream)
    stream.catch(() => streams.delete(key))
  }
  return stream
}

/**
 * Piscina entry: processes one message, or each message of a WorkBatch in order (one result per
 * message, same order), or only loads a stream's module (a WorkLoad, answered with true). The
 * table rows' bytes (TableRows.rows, each owning its ArrayBuffer) are moved to the main thread,
 * not cloned. Throws only when the module cannot be loaded.
 */
export default async function run(task: WorkTask | WorkBatch | WorkLoad): Promise<WorkResult | WorkResult[] | true> {
  if ('load' in task) {
    await loadedStream(task.load.file, task.load.version, task.load.stream)
    return true
  }
  if ('many' in task) {
    const results: WorkResult[] = []
    for (const one of task.many) results.push(await runOne(one))
    return moved(results, results.flatMap(rowBuffers))
  }
  const result = await runOne(task)
  return moved(result, rowBuffers(result))
}

/** The ArrayBuffers of a result's table rows, once each. */
function rowBuffers(result: WorkResult): ArrayBuffer[] {
  return result.tables.map((t) => t.rows.buffer as ArrayBuffer).filter((b) => b.byteLength > 0)
}

/** `value` marked for piscina to post with `buffers` in the transfer list (typed as the value: piscina unwraps it). */
function moved<T>(value: T, buffers: ArrayBuffer[]): T {
  if (buffers.length === 0) return value
  const movable = { [Piscina.transferableSymbol]: [...new Set(buffers)], [Piscina.valueSymbol]: value }
  return Piscina.move(movable as unknown as Parameters<typeof Piscina.move>[0]) as unknown as T
}

async function runOne(task: WorkTask): Promise<WorkResult> {
  const loaded = await loadedStream(task.file, task.version, task.stream)
  const result = loaded.registry && !task.json ? await runRegistry(loaded.stream, loaded.registry, task) : await processMessage(loaded.stream, task.value, task)
  if (result.dlq.length > 0) {
    const stages: Record<string, number> = {}
    const texts = result.dlq.map((item) => {
      stages[item.stage] = (stages[item.stage] ?? 0) + 1
      return JSON.stringify(item).slice(1, -1)
    })
    result.dlqText = { texts, stages }
    result.dlq = []
  }
  return result
}

async function runRegistry(stream: StreamLike, registry: SchemaRegistryFormat, task: WorkTask): Promise<WorkResult> {
  const started = performance.now()
  const decoded = await decodeRegistryMessage(registry, task.value, task.bounds ?? DEFAULT_BOUNDS)
  if (decoded.ok === 'retry') return { records: 0, tables: [], topics: [], dlq: [], filtered: 0, consumed: 0, durationMs: performance.now() - started, retry: decoded.reason }
  if (!decoded.ok) return processMessage(stream, task.value, task, decoded)
  const writer = writerOf(registry, task.value)
  const view = writer ? writerView(stream, writer.fields, writer.id, registry.subject) : undefined
  const schema = view?.schema ?? stream.schema
  decoded.records = decoded.records.map((record) => {
    if (view && view.dropped.length > 0 && typeof record === 'object' && record !== null) for (const field of view.dropped) delete (record as Record<string, unknown>)[field]
    return coerceToSchema(schema, record)
  })
  const result = await processMessage(stream, task.value, task, decoded, schema)
  return view?.evolution ? { ...result, evolution: view.evolution } : result
}
