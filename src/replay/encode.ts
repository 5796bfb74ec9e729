/** Cutting records into JSON_ARRAY message values: each value is one JSON array of up to `batch` records. */
import type { RecordChunk, ReplayRecord } from './types.ts'

/** One encoded Kafka message value. */
export interface EncodedMessage {
  /** UTF-8 JSON text of an array of `records` records. */
  value: Uint8Array
  /** Number of records in the array (1..batch). */
  records: number
}

const encoder = new TextEncoder()

/** UTF-8 JSON of an array of records. Throws TypeError on a cycle or a BigInt (readers never yield either). */
export function encodeRecords(records: ReplayRecord[]): Uint8Array {
  return encoder.encode(JSON.stringify(records))
}

/**
 * Cuts the records of `chunks` into messages of exactly `batch` records (the last one may hold
 * fewer), in file order, across chunk boundaries. Yields them in groups: every message completed
 * by one chunk, so the caller handles a few hundred KB at a time.
 */
export async function* encodeMessages(chunks: AsyncIterable<RecordChunk>, batch: number): AsyncGenerator<EncodedMessage[]> {
  let current: ReplayRecord[] = []
  for await (const chunk of chunks) {
    const out: EncodedMessage[] = []
    let from = 0
    const { records } = chunk
    while (from < records.length) {
      const take = Math.min(batch - current.length, records.length - from)
      const part = from === 0 && take === records.length && current.length === 0 ? records : records.slice(from, from + take)
      current = current.length === 0 ? part : current.concat(part)
      from += take
      if (current.length === batch) {
        out.push({ value: encodeRecords(current), records: current.length })
        current = []
      }
    }
    if (out.length > 0) yield out
  }
  if (current.length > 0) yield [{ value: encodeRecords(current), records: current.length }]
}
