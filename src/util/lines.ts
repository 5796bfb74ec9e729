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

/** Concatenates byte arrays into one (one copy; `total` is their summed length when known). */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0]!
  let length = total ?? 0
  if (total === undefined) for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
