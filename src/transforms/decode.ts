/**
 * Decoding one Kafka message value into the records of its JSON array (DESIGN.md "JSON_ARRAY"),
 * with every bound checked first (DESIGN.md "Bounded input"):
 *
 * | errorType | when | dead-lettered |
 * | `null_value` / `empty_value` | the Kafka value is null (a tombstone) or has no bytes | the message |
 * | `message_too_large` | the value is over FLOWHOUSE_MAX_MESSAGE_BYTES (checked before a worker sees it) | the message |
 * | `invalid_utf8` | the bytes are not UTF-8 | the message |
 * | `max_depth_exceeded` | a record nests deeper than FLOWHOUSE_MAX_DEPTH (or a non-array message does) | that record (or the message) |
 * | `record_too_large` | a record's text is over FLOWHOUSE_MAX_RECORD_BYTES | that record |
 * | `invalid_json` / `not_json_array` | the text is not JSON, or not an array | the message |
 *
 * The raw text kept in an entry is at most `rawKeepBytes` (FLOWHOUSE_DLQ_RAW_KEEP_BYTES); a
 * longer one keeps its first bytes with `truncated: true`, `rawBytes` and `rawSha256` of all of them.
 */
import { createHash } from 'node:crypto'
import { messageOf } from '../errors.ts'
import type { DlqErrorType, DlqItem } from '../model/dlq.ts'
import { scanJson } from './bounds.ts'
import type { WorkBounds, WorkResult } from './types.ts'

const lossy = new TextDecoder('utf-8', { fatal: false })
const strict = new TextDecoder('utf-8', { fatal: true })

/** Defaults of DecodeOptions (src/kafka/options.ts) and DlqOptions (src/config.ts). */
export const DEFAULT_BOUNDS: WorkBounds = { maxDepth: 64, maxRecordBytes: 1024 * 1024, rawKeepBytes: 64 * 1024 }

/**
 * The raw fields of a dead-letter entry for `bytes`: the whole text when it is at most
 * `keep` bytes, otherwise its first `keep` bytes with their total size and SHA-256 (hex).
 * Invalid UTF-8 is kept with U+FFFD replacements; `digest` adds size and SHA-256 of the exact bytes even when they are kept whole.
 */
export function rawFields(bytes: Uint8Array, keep: number, digest = false): Pick<DlqItem, 'raw' | 'rawBytes' | 'rawSha256' | 'truncated'> {
  if (bytes.length <= keep) {
    return digest ? { raw: lossy.decode(bytes), rawBytes: bytes.length, rawSha256: createHash('sha256').update(bytes).digest('hex') } : { raw: lossy.decode(bytes) }
  }
  return { raw: lossy.decode(bytes.subarray(0, keep)), truncated: true, rawBytes: bytes.length, rawSha256: createHash('sha256').update(bytes).digest('hex') }
}

/** A result for a message dead-lettered whole (counted as one record). */
export function rejectedMessage(item: DlqItem, started: number): WorkResult {
  return { records: 1, tables: [], topics: [], dlq: [item], filtered: 0, consumed: 0, durationMs: performance.now() - started }
}

/**
 * Decoded records, or the whole-message failure. `records[i]` is a hole for each record in `dlq`.
 * `ranges` (when every record was parsed from the message at once) holds the byte range of each
 * record's text in the value, flat: record i is [ranges[2i], ranges[2i+1]).
 */
export type Decoded = { ok: true; records: unknown[]; dlq: DlqItem[]; ranges?: number[] } | { ok: false; item: DlqItem }

/**
 * Decodes a message value under `bounds`. Never throws; never lets JSON.parse or anything
 * recursive see a record over a bound.
 */
export function decodeMessage(value: Uint8Array, bounds: WorkBounds): Decoded {
  const decode = (errorType: DlqErrorType, reason: string, digest = false): Decoded => ({ ok: false, item: { stage: 'decode', errorType, reason, ...rawFields(value, bounds.rawKeepBytes, digest) } })
  if (value.length === 0) return decode('empty_value', 'message value is empty; the ingest format is JSON_ARRAY')
  const scan = scanJson(value, bounds)
  if (!scan.array && scan.depth > bounds.maxDepth + 1) {
    return decode('max_depth_exceeded', `message nests deeper than ${bounds.maxDepth + 1} levels (FLOWHOUSE_MAX_DEPTH=${bounds.maxDepth} per record)`)
  }
  let text: string
  try {
    text = strict.decode(value)
  } catch (error) {
    return decode('invalid_utf8', `message is not valid UTF-8: ${messageOf(error)}`, true)
  }
  if (scan.bad.length === 0) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      return decode('invalid_json', `message is not valid JSON: ${messageOf(error)}`)
    }
    if (!Array.isArray(parsed)) {
      const got = parsed === null ? 'null' : typeof parsed
      return decode('not_json_array', `message is not a JSON array (got ${got}); the ingest format is JSON_ARRAY`)
    }
    return { ok: true, records: parsed, dlq: [], ranges: scan.ranges }
  }
  if (!scan.balanced) return decode('invalid_json', 'message is not valid JSON: its brackets or strings do not close')
  // Some records are over a bound: parse the others one by one.
  const bad = new Map(scan.bad.map((b) => [b.index, b]))
  const count = scan.ranges.length / 2
  const records: unknown[] = new Array(count)
  const dlq: DlqItem[] = []
  for (let index = 0; index < count; index++) {
    const start = scan.ranges[2 * index]!
    const end = scan.ranges[2 * index + 1]!
    const over = bad.get(index)
    if (over) {
      const reason = over.bound === 'max_depth_exceeded'
        ? `record ${index} nests deeper than FLOWHOUSE_MAX_DEPTH=${bounds.maxDepth} levels`
        : `record ${index} is ${over.bytes} bytes, over FLOWHOUSE_MAX_RECORD_BYTES=${bounds.maxRecordBytes}`
      dlq.push({ stage: 'decode', errorType: over.bound, reason, index, ...rawFields(value.subarray(start, end), bounds.rawKeepBytes) })
      continue
    }
    try {
      records[index] = JSON.parse(text.length === value.length ? text.slice(start, end) : lossy.decode(value.subarray(start, end)))
    } catch (error) {
      return decode('invalid_json', `message is not valid JSON: record ${index}: ${messageOf(error)}`)
    }
  }
  return { ok: true, records, dlq }
}
