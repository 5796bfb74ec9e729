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
  /** Byte ranges of the top-level records, flat: record i is [ranges[2i], ranges[2i+1]). Empty when `array` is false. */
  ranges: number[]
  /** Brackets and strings close, and only blanks follow the top-level value. When false the text is not JSON. */
  balanced: boolean
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

/** Scan position and findings between two steps. */
interface ScanState {
  bytes: Uint8Array
  limits: DecodeLimits
  i: number
  array: boolean
  depth: number
  maxDepth: number
  /** Current top-level record: its first byte (-1 between records) and the deepest absolute depth inside it. */
  start: number
  recordDepth: number
  index: number
  balanced: boolean
  done: boolean
  bad: BadRecord[]
  ranges: number[]
}

function begin(bytes: Uint8Array, limits: DecodeLimits): ScanState {
  let i = 0
  while (i < bytes.length && blank(bytes[i]!)) i++
  const array = i < bytes.length && bytes[i] === OPEN_ARRAY
  return { bytes, limits, i, array, depth: 0, maxDepth: 0, start: -1, recordDepth: 0, index: 0, balanced: true, done: false, bad: [], ranges: [] }
}

/** Scans from `st.i` up to byte `stopAt` (a string in progress is finished first). */
function step(st: ScanState, stopAt: number): void {
  const { bytes, limits, array, bad, ranges } = st
  const n = bytes.length
  const stop = Math.min(n, stopAt)
  const capDepth = limits.maxDepth + 2
  let { i, depth, maxDepth, start, recordDepth, index, balanced } = st
  const end = (at: number) => {
    if (start < 0) return
    const size = at - start
    const deep = recordDepth - 1 > limits.maxDepth
    if (deep || size > limits.maxRecordBytes) bad.push({ index, start, end: at, bound: deep ? 'max_depth_exceeded' : 'record_too_large', bytes: size })
    ranges.push(start, at)
    start = -1
    recordDepth = 0
  }
  let done = false
  for (; i < stop; i++) {
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
        done = true
        break
      }
      i = j
      continue
    }
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (array && depth === 1 && start < 0) start = i
      depth++
      if (depth > maxDepth) maxDepth = Math.min(depth, capDepth)
      if (depth > recordDepth) recordDepth = depth
      continue
    }
    if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (array && depth === 1) end(i)
      depth--
      if (depth < 0) {
        balanced = false
        done = true
        break
      }
      // A container record ends with this bracket.
      if (array && depth === 1 && start >= 0 && recordDepth > 1) end(i + 1)
      if (depth === 0) {
        // The top-level value ended: only blanks may follow.
        for (i++; i < n; i++) if (!blank(bytes[i]!)) balanced = false
        done = true
        break
      }
      continue
    }
    // A comma.
    if (array && depth === 1) {
      end(i)
      index++
    }
  }
  if (i >= n) done = true
  Object.assign(st, { i, depth, maxDepth, start, recordDepth, index, balanced, done })
}

function finish(st: ScanState): ScanResult {
  const { array, ranges, index } = st
  let balanced = st.balanced && st.depth === 0
  // One record per comma-separated slot: `[1,]`, `[,1]`, `[1,,2]` and `[{} {}]` are not JSON.
  if (array && balanced && ranges.length / 2 !== (ranges.length === 0 && index === 0 ? 0 : index + 1)) balanced = false
  return { array, depth: st.maxDepth, bad: array ? st.bad : [], ranges: array ? ranges : [], balanced }
}

/**
 * Scans a message's bytes for nesting depth and the byte size of each top-level record.
 * Linear in the bytes, constant stack; never throws (malformed JSON is left to JSON.parse,
 * which then runs on a value known to be shallow).
 * @param bytes the message value (UTF-8).
 * @param limits maxDepth (record nesting) and maxRecordBytes.
 */
export function scanJson(bytes: Uint8Array, limits: DecodeLimits): ScanResult {
  const st = begin(bytes, limits)
  step(st, bytes.length)
  return finish(st)
}

/**
 * `scanJson` in steps of `sliceBytes`, awaiting `pause()` between steps (the ingest API yields
 * to the event loop so a 16 MB body does not hold it). Same result as scanJson.
 */
export async function scanJsonInSlices(bytes: Uint8Array, limits: DecodeLimits, sliceBytes: number, pause: () => Promise<void>): Promise<ScanResult> {
  const st = begin(bytes, limits)
  for (;;) {
    step(st, st.i + sliceBytes)
    if (st.done) return finish(st)
    await pause()
  }
}
