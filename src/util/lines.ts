/**
 * JSONEachRow bytes: lines of UTF-8 text, each ending in `\n`, held in a Uint8Array that owns its
 * whole ArrayBuffer (so it can be transferred between threads without copying anything else).
 */

const encoder = new TextEncoder()
const NEWLINE = 0x0a

/**
 * Encodes `lines` (each without a line break: text, or UTF-8 bytes copied as they are) as UTF-8,
 * each followed by `\n`, into one Uint8Array whose ArrayBuffer is exactly as long as the text
 * (byteOffset 0), never a pooled slab. No intermediate joined string is built. An empty list
 * gives an empty array.
 */
export function encodeLines(lines: ReadonlyArray<string | Uint8Array>): Uint8Array {
  // A UTF-8 text is at least as many bytes as UTF-16 code units: ASCII text fits exactly.
  let capacity = lines.length
  for (const line of lines) capacity += line.length
  let out = new Uint8Array(capacity)
  let used = 0
  /** Makes room for `more` bytes after `used` (text before may have taken more than its count). */
  const room = (more: number) => {
    if (used + more <= out.length) return
    const grown = new Uint8Array(Math.max(out.length * 2, used + more))
    grown.set(out.subarray(0, used))
    out = grown
  }
  for (const line of lines) {
    if (typeof line !== 'string') {
      room(line.length + 1)
      out.set(line, used)
      used += line.length
      out[used++] = NEWLINE
      continue
    }
    let read = 0
    for (;;) {
      const r = encoder.encodeInto(read === 0 ? line : line.slice(read), out.subarray(used))
      read += r.read
      used += r.written
      if (read >= line.length && used < out.length) break
      // Non-ASCII text: grow and continue where the encoder stopped (a character takes at most 3 bytes per code unit).
      room(3 * (line.length - read) + 1)
    }
    out[used++] = NEWLINE
  }
  return used === out.length ? out : out.slice(0, used)
}

/**
 * The lines of JSONEachRow bytes, each a view (no copy) without its `\n`; a final line without a
 * break counts, and an empty text has no lines.
 */
export function splitLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = []
  let start = 0
  while (start < bytes.length) {
    let end = bytes.indexOf(NEWLINE, start)
    if (end === -1) end = bytes.length
    lines.push(bytes.subarray(start, end))
    start = end + 1
  }
  return lines
}

/** `lines` (views as from splitLines) joined back into JSONEachRow bytes, each followed by `\n`: one copy. */
export function joinLines(lines: readonly Uint8Array[]): Uint8Array {
  let length = lines.length
  for (const line of lines) length += line.length
  const out = new Uint8Array(length)
  let at = 0
  for (const line of lines) {
    out.set(line, at)
    at += line.length
    out[at++] = NEWLINE
  }
  return out
}

/**
 * Reusable byte buffers for insert bodies, so each flush does not allocate (and leave to the
 * garbage collector) a new one of megabytes: V8 counts ArrayBuffers as external memory and runs
 * a full collection of the main heap each time enough of it was allocated. `take` never hands
 * the same buffer to two callers; a buffer is reused only after `give`, which a caller calls
 * once nothing reads it any more (never after an aborted insert the engine may still be reading).
 */
export class BytePool {
  private readonly free: ArrayBuffer[] = []

  /**
   * @param keep most buffers kept between uses
   * @param maxBytes largest buffer kept (bigger ones are left to the collector), in bytes
   */
  constructor(
    private readonly keep = 2,
    private readonly maxBytes = 16 * 1024 * 1024,
  ) {}

  /** A view of exactly `bytes` bytes (contents undefined) over a buffer of at least that size. */
  take(bytes: number): Uint8Array {
    const at = this.free.findIndex((b) => b.byteLength >= bytes)
    const buffer = at >= 0 ? this.free.splice(at, 1)[0]! : new ArrayBuffer(bytes)
    return new Uint8Array(buffer, 0, bytes)
  }

  /** Returns a view from `take` for reuse. */
  give(view: Uint8Array): void {
    const buffer = view.buffer as ArrayBuffer
    if (buffer.byteLength > this.maxBytes || this.free.includes(buffer)) return
    this.free.push(buffer)
    if (this.free.length > this.keep) this.free.sort((a, b) => b.byteLength - a.byteLength).pop()
  }
}

/** `parts` concatenated into `into` (exactly their summed length). */
export function concatInto(parts: readonly Uint8Array[], into: Uint8Array): Uint8Array {
  let at = 0
  for (const p of parts) {
    into.set(p, at)
    at += p.length
  }
  return into
}
