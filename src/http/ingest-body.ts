/**
 * Reads a `POST /ingest` body (a JSON array of records) under the same bounds as the consumers
 * (FLOWHOUSE_MAX_DEPTH, FLOWHOUSE_MAX_RECORD_BYTES) without holding the event loop: one linear
 * scan (src/transforms/bounds.ts) finds each record's byte range and refuses a body over a
 * bound before anything recursive sees it, then the records are parsed a slice at a time,
 * yielding to the event loop between slices, so /health answers while large bodies arrive.
 */
import { scanJsonInSlices, type DecodeLimits } from '../transforms/bounds.ts'
import { yieldToLoop } from '../util/yield.ts'

/** Records parsed (or validated) between two yields to the event loop. */
export const RECORDS_PER_SLICE = 5_000
/** Body bytes scanned between two yields (about 5 ms of scanning). */
const BYTES_PER_SLICE = 1024 * 1024


export type IngestBody =
  | {
      ok: true
      records: unknown[]
      /** JSON text of records [from, to) joined by commas, as in the body (no re-serialisation). */
      text(from: number, to: number): string
    }
  | { ok: false; code: 'max_depth_exceeded' | 'record_too_large' | 'not_json_array' | 'invalid_json'; error: string }

/**
 * Parses `body` as a JSON array under `limits`. Never throws.
 * @returns the records, or why the body is refused (a 400: the bound's name, not JSON, not an array).
 */
export async function readIngestBody(body: Buffer, limits: DecodeLimits): Promise<IngestBody> {
  const scan = await scanJsonInSlices(body, limits, BYTES_PER_SLICE, yieldToLoop)
  const notArray = { ok: false, code: 'not_json_array', error: 'body must be a JSON array of records (ingest format JSON_ARRAY)' } as const
  if (!scan.array) return scan.depth > limits.maxDepth + 1 ? { ok: false, code: 'max_depth_exceeded', error: `body nests deeper than FLOWHOUSE_MAX_DEPTH=${limits.maxDepth} levels` } : notArray
  if (!scan.balanced) return { ok: false, code: 'invalid_json', error: 'body is not valid JSON: its brackets or strings do not close' }
  const over = scan.bad[0]
  if (over) {
    const error = over.bound === 'max_depth_exceeded'
      ? `record ${over.index} nests deeper than FLOWHOUSE_MAX_DEPTH=${limits.maxDepth} levels`
      : `record ${over.index} is ${over.bytes} bytes, over FLOWHOUSE_MAX_RECORD_BYTES=${limits.maxRecordBytes}`
    return { ok: false, code: over.bound, error: `${error}; nothing was accepted` }
  }
  const text = body.toString('utf8')
  const ascii = text.length === body.length
  const ranges = scan.ranges
  const count = ranges.length / 2
  // Byte offsets equal string offsets only for ASCII text; otherwise slice the bytes.
  const slice = (from: number, to: number) => (from >= to ? '' : ascii ? text.slice(ranges[2 * from], ranges[2 * to - 1]) : body.toString('utf8', ranges[2 * from], ranges[2 * to - 1]))
  const records: unknown[] = []
  for (let from = 0; from < count; from += RECORDS_PER_SLICE) {
    if (from > 0) await yieldToLoop()
    const to = Math.min(count, from + RECORDS_PER_SLICE)
    let part: unknown[]
    try {
      part = JSON.parse(`[${slice(from, to)}]`) as unknown[]
    } catch (error) {
      return { ok: false, code: 'invalid_json', error: `body is not valid JSON: ${(error as Error).message}` }
    }
    if (part.length !== to - from) return { ok: false, code: 'invalid_json', error: 'body is not valid JSON' }
    for (const r of part) records.push(r)
  }
  return { ok: true, records, text: slice }
}
