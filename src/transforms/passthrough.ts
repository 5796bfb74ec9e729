/**
 * Pass-through of a record's own JSON text as its JSONEachRow line, instead of
 * `JSON.stringify(JSON.parse(text))`, when ClickHouse is known to read both the same.
 *
 * Used for a pipeline writing its own table with no transform, no stream consumer and no
 * constraint (process.ts). The record is still parsed and validated; only the serialisation is
 * skipped. The text is taken as it came only when it is a flat object in compact form whose
 * numbers are written as JSON.stringify writes them, because ClickHouse refuses or reads
 * differently what JSON.parse accepts and JSON.stringify would have normalised (checked on
 * chDB 26.7 with JSONEachRow):
 * - `1.0` or `1e2` for an integer column: `Cannot parse input` (code 27);
 * - a key given twice: `Duplicate field found` (code 117), where JSON.parse keeps the last;
 * - a line break between tokens would split the row (rows are one per line).
 * Any other record goes through JSON.stringify as before, so the rows written are the same
 * either way.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a

/** Byte classes outside strings: 1 = blank, 2 = nesting, 3 = exponent, 4 = decimal point, 5 = digit. */
const CLASS = new Uint8Array(256)
for (const c of [0x20, 0x0a, 0x0d, 0x09]) CLASS[c] = 1
for (const c of [0x5b, 0x5d]) CLASS[c] = 2
for (const c of [0x65, 0x45]) CLASS[c] = 3
CLASS[0x2e] = 4
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = 5

/** Integers longer than this many digits are left to JSON.stringify (beyond 2^53 they may round). */
const MAX_DIGITS = 15

/**
 * True when `bytes[start, end)` (one record of a parsed message, `record` its parsed value) can
 * be written as it came: a JSON object of `keys` distinct keys with nothing nested, no blank
 * outside strings, and numbers in JSON.stringify's form for an integer (no exponent, no fraction
 * of zeros only, at most 15 digits). Linear in the bytes; never throws.
 */
export function passesAsIs(bytes: Uint8Array, start: number, end: number, keys: number): boolean {
  if (end - start < 2 || bytes[start] !== 0x7b || bytes[end - 1] !== 0x7d) return false
  let colons = 0
  let digits = 0
  let fraction = -1
  for (let i = start + 1; i < end - 1; i++) {
    const c = bytes[i]!
    if (c === QUOTE) {
      let j = i + 1
      for (; j < end; j++) {
        const d = bytes[j]!
        if (d === QUOTE) break
        if (d === BACKSLASH) j++
      }
      i = j
      continue
    }
    const cls = CLASS[c]!
    if (cls === 5) {
      digits++
      if (fraction >= 0 && c !== 0x30) fraction = 1
      continue
    }
    if (cls === 4) {
      fraction = 0
      continue
    }
    if (cls === 3) {
      // An exponent inside a number; otherwise the `e` of `true` or `false`.
      if (digits > 0 || fraction >= 0) return false
      continue
    }
    if (cls === 1 || cls === 2 || c === 0x7b || c === 0x7d) return false
    // A token ended (`,` or `:`, or the `-` / letters of a literal, which carry no digits).
    if (fraction === 0 || (fraction < 0 && digits > MAX_DIGITS)) return false
    digits = 0
    fraction = -1
    if (c === COLON) colons++
  }
  if (fraction === 0 || (fraction < 0 && digits > MAX_DIGITS)) return false
  return colons === keys
}
