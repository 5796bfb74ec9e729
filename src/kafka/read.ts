/**
 * Reading a snapshot of a topic outside any pipeline's consumer group (DLQ and stream tooling).
 * The end of every partition is fixed when the read starts (its high watermark), so a read
 * always finishes even while producers keep writing. A throwaway consumer group
 * (`<prefix>.tools.<random>`) is used and deleted afterwards; nothing is committed.
 */
import { randomUUID } from 'node:crypto'
import type { IHeaders, Kafka } from 'kafkajs'
import { FlowhouseError } from '../errors.ts'

/** One message read from a topic. */
export interface TopicMessage {
  partition: number
  /** Offset as Kafka prints it (a decimal string). */
  offset: string
  /** Producer timestamp, ms since the epoch. */
  timestamp: number
  key: string | null
  /** The value as UTF-8 text. */
  value: string
  headers: Record<string, string>
}

export interface ReadOptions {
  /**
   * First offset to read in a partition, given its low and high watermarks (numbers);
   * @default the low watermark (everything still retained).
   */
  start?: (partition: number, low: number, high: number) => number
  /** Prefix of the throwaway group id. @default 'flowhouse' */
  groupPrefix?: string
  /** Gives up after this many milliseconds. @default 60_000 */
  timeoutMs?: number
}

function headerText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v
    if (first !== undefined) out[k] = first.toString()
  }
  return out
}

/**
 * Reads `topic` from each partition's start offset up to its high watermark at the time of the call.
 * @returns messages ordered by partition, then offset.
 * @throws FlowhouseError NOT_FOUND when the topic does not exist; KAFKA_ERROR on timeout; kafkajs errors.
 */
export async function readTopicSnapshot(kafka: Kafka, topic: string, o: ReadOptions = {}): Promise<TopicMessage[]> {
  const admin = kafka.admin()
  await admin.connect()
  const groupId = `${o.groupPrefix ?? 'flowhouse'}.tools.${randomUUID()}`
  try {
    if (!(await admin.listTopics()).includes(topic)) throw new FlowhouseError('NOT_FOUND', `topic "${topic}" does not exist`, { context: { topic } })
    const offsets = await admin.fetchTopicOffsets(topic)
    const ranges = new Map<number, { from: number; to: number }>()
    for (const p of offsets) {
      const low = Number(p.low)
      const high = Number(p.high)
      const from = Math.max(low, Math.min(high, o.start ? o.start(p.partition, low, high) : low))
      if (from < high) ranges.set(p.partition, { from, to: high })
    }
    if (ranges.size === 0) return []
    const out: TopicMessage[] = []
    const left = new Set(ranges.keys())
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false })
    await consumer.connect()
    try {
      let done: () => void = () => undefined
      const finished = new Promise<void>((resolve) => (done = resolve))
      await consumer.subscribe({ topic, fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const range = ranges.get(batch.partition)
          if (!range || !left.has(batch.partition)) return
          for (const m of batch.messages) {
            const offset = Number(m.offset)
            if (offset < range.from) continue
            if (offset >= range.to) break
            out.push({ partition: batch.partition, offset: m.offset, timestamp: Number(m.timestamp), key: m.key?.toString() ?? null, value: m.value?.toString() ?? '', headers: headerText(m.headers) })
          }
          // Transaction markers and compaction leave gaps: the batch's last offset decides.
          if (Number(batch.lastOffset()) >= range.to - 1) {
            left.delete(batch.partition)
            if (left.size === 0) done()
          }
        },
      })
      for (const [partition, range] of ranges) consumer.seek({ topic, partition, offset: String(range.from) })
      const timeoutMs = o.timeoutMs ?? 60_000
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        finished,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new FlowhouseError('KAFKA_ERROR', `reading "${topic}" did not finish within ${timeoutMs} ms`, { retriable: true, context: { topic } })), timeoutMs))),
      ]).finally(() => clearTimeout(timer))
    } finally {
      await consumer.disconnect().catch(() => undefined)
    }
    return out.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset))
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined)
    await admin.disconnect()
  }
}
