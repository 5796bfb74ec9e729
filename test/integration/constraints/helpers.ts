/** Shared setup of the constraint tests: an events pipeline module with the given constraints. */
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { kafka, tempDir } from '../helpers.ts'

export interface EventsModule {
  name: string
  dir: string
  pipelinesDir: string
  dataDir: string
}

/**
 * Writes a module declaring pipeline `<prefix>_<random>` (schema: id, user_id, event_type,
 * timestamp, value?, note?) with its own table, the given constraint declarations (TypeScript
 * source of an array), and a transform-free path unless `transform` is given (source of a
 * function body receiving `e`, returning the row).
 */
export async function eventsModule(prefix: string, constraints: string, options: { transform?: string; parallelism?: number } = {}): Promise<EventsModule> {
  const name = `${prefix}_${randomBytes(3).toString('hex')}`
  const dir = await tempDir(prefix)
  const pipelinesDir = path.join(dir, 'pipelines')
  await mkdir(pipelinesDir)
  const table = options.transform ? 'false' : '{ orderByFields: ["id"] }'
  const transform = options.transform
    ? `export const rows = new OlapTable('${name}_rows', Event, { orderByFields: ['id'] })
events.stream.addTransform(rows, async (e) => { ${options.transform} })`
    : ''
  await writeFile(
    path.join(pipelinesDir, `${name}.ts`),
    `import { Constraint, IngestPipeline, Key, OlapTable, t } from 'flowhouse'

const Event = t.Object({
  id: Key(t.String()),
  user_id: t.String(),
  event_type: t.String(),
  timestamp: t.String(),
  value: t.Optional(t.Number()),
  note: t.Optional(t.String()),
})

export const constraints = ${constraints}

export const events = new IngestPipeline('${name}', { schema: Event, table: ${table}, stream: { parallelism: ${options.parallelism ?? 1} }, constraints })
${transform}
`,
  )
  return { name, dir, pipelinesDir, dataDir: path.join(dir, 'data') }
}

/** Produces records to a topic as JSON-array messages of `perMessage` records. */
export async function produce(topic: string, records: object[], perMessage = 100): Promise<void> {
  const producer = kafka().producer()
  await producer.connect()
  try {
    const messages = []
    for (let i = 0; i < records.length; i += perMessage) messages.push({ value: JSON.stringify(records.slice(i, i + perMessage)) })
    await producer.send({ topic, messages, acks: -1 })
  } finally {
    await producer.disconnect()
  }
}

export const event = (id: string, user_id: string, extra: Record<string, unknown> = {}) => ({ id, user_id, event_type: 'click', timestamp: '2026-01-31T12:00:00Z', ...extra })

export async function api<T = any>(url: string, method: string, pathname: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${pathname}`, {
    method,
    // State-changing requests always carry a JSON body (the daemon answers 415 otherwise).
    ...(body === undefined && (method === 'GET' || method === 'DELETE') ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) }),
  })
  return { status: res.status, body: (await res.json()) as T }
}
