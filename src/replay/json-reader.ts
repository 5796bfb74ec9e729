/**
 * Records of a file holding one JSON array, streamed: the file is read in 1 MiB pieces and split
 * into top-level array elements by a small scanner (strings, escapes, nesting), and only the
 * elements of the selected row range are parsed. Memory holds one chunk of records at a time.
 */
import { createReadStream } from 'node:fs'
import { FlowhouseError } from '../errors.ts'
import { normalizeTimestampText } from './normalize.ts'
import { assignIds, type RowRange } from './rows.ts'
import type { RecordChunk, ReplayRecord } from './types.ts'

const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c

/** Options of `jsonArrayChunks`. */
export interface JsonChunkOptions {
  range: RowRange
  chunkRows: number
  idField: string | null
  normalizeDates: boolean
}

/**
 * Splits JSON text arriving in pieces into the raw texts of the top-level array's elements.
 * `push` returns the elements completed by a piece; `end` checks the array was closed.
 */
export class JsonArraySplitter {
  private text = ''
  private pos = 0
  private elementStart = -1
  private depth = 0
  private inString = false
  private escaped = false
  private done = false
  private count = 0

  /**
   * Feeds the next piece of text.
   * @returns the raw text of every element completed in it, in order.
   * @throws FlowhouseError DECODE_FAILED when the text is not one JSON array (wrong opening,
   *   empty element, content after the closing bracket).
   */
  push(piece: string): string[] {
    const out: string[] = []
    this.text = this.elementStart >= 0 ? this.text.slice(this.elementStart) + piece : piece
    this.pos = this.elementStart >= 0 ? this.pos - this.elementStart : 0
    if (this.elementStart >= 0) this.elementStart = 0
    const text = this.text
    for (let i = this.pos; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (c === BACKSLASH) this.escaped = true
        else if (c === QUOTE) this.inString = false
        continue
      }
      if (this.done) {
        if (!isSpace(c)) this.fail('content after the closing bracket of the array')
        continue
      }
      if (this.depth === 0) {
        if (c === OPEN_BRACKET) {
          this.depth = 1
          this.elementStart = i + 1
        } else if (!isSpace(c) && !(c === 0xfeff && i === 0)) this.fail('expected the file to hold one JSON array (first character must be "[")')
        continue
      }
      if (c === QUOTE) this.inString = true
      else if (c === OPEN_BRACKET || c === OPEN_BRACE) this.depth++
      else if ((c === COMMA && this.depth === 1) || (c === CLOSE_BRACKET && this.depth === 1)) {
        const element = text.slice(this.elementStart, i).trim()
        if (element.length > 0) {
          out.push(element)
          this.count++
        } else if (c === COMMA || this.count > 0) this.fail(`empty element at position ${this.count} of the array`)
        if (c === CLOSE_BRACKET) {
          this.depth = 0
          this.done = true
          this.elementStart = -1
        } else this.elementStart = i + 1
      } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) this.depth--
    }
    this.pos = text.length
    if (this.elementStart < 0) this.text = ''
    return out
  }

  /** @throws FlowhouseError DECODE_FAILED when the array was never opened or not closed. */
  end(): void {
    if (!this.done) this.fail('unexpected end of file: the JSON array is not closed')
  }

  private fail(message: string): never {
    throw new FlowhouseError('DECODE_FAILED', message)
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/**
 * Yields the records of `range` from a file holding one JSON array, `chunkRows` at a time, in file
 * order, with ids assigned (`assignIds`). Parsed JSON is already JSON-safe; with `normalizeDates`,
 * top-level `YYYY/MM/DD HH:MM[:SS]` strings become ISO-8601 UTC (`normalizeTimestampText`).
 * @throws FlowhouseError DECODE_FAILED naming the file and row when the file is not one JSON array,
 *   an element does not parse, or an element is not a JSON object.
 */
export async function* jsonArrayChunks(path: string, options: JsonChunkOptions): AsyncGenerator<RecordChunk> {
  const { range, chunkRows, idField, normalizeDates } = options
  const end = range.end ?? Infinity
  if (range.start >= end) return
  const splitter = new JsonArraySplitter()
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })
  let row = 0
  let chunk: ReplayRecord[] = []
  let firstRow = range.start
  try {
    for await (const piece of stream as AsyncIterable<string>) {
      for (const text of split(splitter, piece, path)) {
        const index = row++
        if (index < range.start) continue
        chunk.push(parseRecord(text, path, index, normalizeDates))
        if (chunk.length === chunkRows || index + 1 === end) {
          yield { firstRow, records: assignIds(chunk, firstRow, idField) }
          firstRow = index + 1
          chunk = []
          if (index + 1 === end) return
        }
      }
    }
    wrap(() => splitter.end(), path)
    if (chunk.length > 0) yield { firstRow, records: assignIds(chunk, firstRow, idField) }
  } finally {
    stream.destroy()
  }
}

function split(splitter: JsonArraySplitter, piece: string, path: string): string[] {
  return wrap(() => splitter.push(piece), path)
}

function wrap<T>(fn: () => T, path: string): T {
  try {
    return fn()
  } catch (error) {
    if (error instanceof FlowhouseError) throw new FlowhouseError('DECODE_FAILED', `${path}: ${error.message}`, { context: { file: path } })
    throw error
  }
}

function parseRecord(text: string, path: string, row: number, normalizeDates: boolean): ReplayRecord {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new FlowhouseError('DECODE_FAILED', `${path}: row ${row} is not valid JSON: ${(error as Error).message}`, { cause: error, context: { file: path, row } })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FlowhouseError('DECODE_FAILED', `${path}: row ${row} is not a JSON object`, { context: { file: path, row } })
  }
  const record = value as ReplayRecord
  if (normalizeDates) for (const key of Object.keys(record)) record[key] = normalizeTimestampText(record[key])
  return record
}
