/**
 * Input bounds checked before anything recursive (JSON.parse, ajv, structuredClone, a worker's
 * postMessage) touches a value (DESIGN.md "Bounded input").
 *
 * `scanJson` is one linear pass over the UTF-8 bytes of a message that tracks brackets outside
 * strings. It needs no stack, so a 10,000-deep message costs what its bytes cost. JSON's
 * structural characters (`[ ] { } " \ ,`) are ASCII and never appear inside a multi-byte
 * UTF-8 sequence, so the bytes can be scanned before they are decoded.
 *
 * Why a bound at all: structured clone (worker messages) silently drops a value nested a few
 * thousand levels deep (about 4,000 on Node 20), so such a task never settles; JSON.stringify,
 * ajv and user transforms recurse and overflow the stack on deep values.
 */

/** Bounds on one message. */
export interface DecodeLimits {
  /** Deepest nesting accepted in one record: a scalar is 0, `{}` or `[]` is 1, `[[1]]` is 2. */
  maxDepth: number
  /** Largest record (its JSON text inside the message), in bytes. */
  maxRecordBytes: number
}

export type BoundError = 'max_depth_exceeded' | 'record_too_large' | 'message_too_large'

/** A record of the top-level array that breaks a bound. */
export interface BadRecord {
  index: number
  /** Byte range of the record's text inside the message: [start, end). */
  start: number
  end: number
  bound: 'max_depth_exceeded' | 'record_too_large'
  /** Bytes of the record's text. */
  bytes: number
}

/** What the scan found. */
export interface ScanResult {
  /** The first non-blank byte is `[`. */
  array: boolean
  /** Deepest nesting of the whole message (the top-level array counts 1), capped once it exceeds the bound + 1. */
  depth: number
  /** Records of the top-level array over a bound (empty when `array` is false). */
  bad: BadRecord[]
  /**
   * Byte ranges of every top-level record, present only when some record is bad, so the good
   * ones can be parsed one by one. Undefined when the brackets do not balance (not JSON).
   */
  records?: Array<[number, number]>
}

const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c

function blank(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/** Byte classes: 0 = part of a scalar, 1 = blank, 2 = a structural character or a quote. */
const CLASS = new Uint8Array(256)
for (const c of [0x20, 0x0a, 0x0d, 0x09]) CLASS[c] = 1
for (const c of [OPEN_ARRAY, CLOSE_ARRAY, OPEN_OBJECT, CLOSE_OBJECT, QUOTE, COMMA]) CLASS[c] = 2

/**
 * Scans a message's bytes for nesting depth and the byte size of each top-level record.
 * Linear in the bytes, constant stack; never throws (malformed JSON is left to JSON.parse,
 * which then runs on a value known to be shallow).
 * @param bytes the message value (UTF-8).
 * @param limits maxDepth (record nesting) and maxRecordBytes.
 */
export function scanJson(bytes: Uint8Array, limits: DecodeLimits): ScanResult {
  const n = bytes.length
  let i = 0
  while (i < n && blank(bytes[i]!)) i++
  const array = i < n && bytes[i] === OPEN_ARRAY
  const messageLimit = limits.maxDepth + 1
  let depth = 0
  let maxDepth = 0
  // Current top-level record: start byte, deepest absolute depth inside it.
  let start = -1
  let recordDepth = 0
  let index = 0
  let balanced = true
  const bad: BadRecord[] = []
  const ranges: Array<[number, number]> = []
  const end = (at: number) => {
    if (start < 0) return
    const bytesOf = at - start
    const deep = recordDepth - 1 > limits.maxDepth
    if (deep || bytesOf > limits.maxRecordBytes) bad.push({ index, start, end: at, bound: deep ? 'max_depth_exceeded' : 'record_too_large', bytes: bytesOf })
    ranges.push([start, at])
    start = -1
    recordDepth = 0
  }
  for (; i < n; i++) {
    const c = bytes[i]!
    const cls = CLASS[c]!
    if (cls === 0) {
      if (depth === 1 && start < 0 && array) {
        start = i
        recordDepth = 1
      }
      continue
    }
    if (cls === 1) continue
    if (c === QUOTE) {
      if (array && depth === 1 && start < 0) start = i
      // Skip the string: up to the next quote, stepping over each escaped character.
      let j = i + 1
      for (; j < n; j++) {
        const d = bytes[j]!
        if (d === QUOTE) break
        if (d === BACKSLASH) j++
      }
      if (j >= n) {
        balanced = false
        break
      }
      i = j
      continue
    }
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (array && depth === 1 && start < 0) start = i
      depth++
      if (depth > maxDepth) maxDepth = Math.min(depth, messageLimit + 1)
      if (depth > recordDepth) recordDepth = depth
      continue
    }
    if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (array && depth === 1) end(i)
      depth--
      if (depth < 0) {
        balanced = false
        break
      }
      // A container record ends with this bracket.
      if (array && depth === 1 && start >= 0 && recordDepth > 1) end(i + 1)
      if (depth === 0) {
        // The top-level value ended: only blanks may follow.
        for (i++; i < n; i++) if (!blank(bytes[i]!)) balanced = false
        break
      }
      continue
    }
    if (c === COMMA) {
      if (array && depth === 1) {
        end(i)
        index++
      }
      continue
    }
  }
  if (depth !== 0) balanced = false
  const result: ScanResult = { array, depth: maxDepth, bad: array ? bad : [] }
  if (array && bad.length > 0 && balanced) result.records = ranges
  return result
}
