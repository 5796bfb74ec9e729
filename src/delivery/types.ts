/**
 * Dead-letter entries as delivery writes them to `<pipeline>.dlq` (DESIGN.md "Dead-letter queue"):
 * the item a stage reported (src/model/dlq.ts), where it came from, and when. src/kafka/dlq.ts
 * serialises, bounds and produces them.
 */
import type { DlqItem } from '../model/dlq.ts'

/** Where dead-letter entries come from: the source message (or, at stage insert, the batch's offset range). */
export interface DlqSource {
  pipeline: string
  stream: string
  topic: string
  partition: number
  /** Source offset, as Kafka prints it (a decimal string), or `<first>-<last>` for insert-stage entries of a batch. */
  offset: string
}

/** One dead-letter entry: the item, where it comes from, and when it was made. */
export interface DlqEntry extends DlqItem, DlqSource {
  /** ISO-8601 time the entry was made. */
  time: string
}

/**
 * The dead-letter items of one source message, kept as the worker returned them: entries are
 * made only when they are sent, a slice at a time (a message can carry 100,000 of them).
 */
export interface DlqGroup {
  source: DlqSource
  /** ISO-8601 time the items were received. */
  time: string
  items: DlqItem[]
  /** More items already serialised by the worker: each one's JSON without its braces (WorkResult.dlqText). */
  texts?: string[]
}
