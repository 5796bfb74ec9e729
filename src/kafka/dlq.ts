/**
 * Dead-letter entries. Each entry is one Kafka message on `<pipeline>.dlq` whose value is
 * JSON (DESIGN.md "Dead-letter queue"):
 * `{ pipeline, stream, topic, partition, offset, index?, stage, errorType, reason, record?, raw?, time }`.
 * The message key is `<topic>:<partition>:<offset>` so entries of one source message stay together.
 */
import type { Message } from 'kafkajs'
import type { DlqItem } from '../transforms/types.ts'

export interface DlqEntry extends DlqItem {
  pipeline: string
  stream: string
  topic: string
  partition: number
  /** Source offset, as Kafka prints it (a decimal string). */
  offset: string
  /** ISO-8601 time the entry was made. */
  time: string
}

export function dlqEntry(item: DlqItem, source: { pipeline: string; stream: string; topic: string; partition: number; offset: string }): DlqEntry {
  return { ...source, ...item, time: new Date().toISOString() }
}

export function dlqMessage(entry: DlqEntry): Message {
  return { key: `${entry.topic}:${entry.partition}:${entry.offset}`, value: JSON.stringify(entry) }
}
