/**
 * Parquet rows as chunks of JSON-safe records, one row group at a time (hyparquet +
 * hyparquet-compressors for ZSTD, GZIP, Brotli, LZ4). Only the columns of the row group being
 * replayed are in memory (column-oriented, never the whole file); records are built chunk by chunk.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer, type ColumnData, type FileMetaData, type ParquetParsers } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import { FlowhouseError, messageOf } from '../errors.ts'
import { normalizeValue } from './normalize.ts'
import { assignIds, type RowRange } from './rows.ts'
import type { RecordChunk, ReplayRecord } from './types.ts'

/**
 * hyparquet parsers that turn parquet timestamps straight into ISO-8601 UTC strings (no Date per
 * value): millisecond precision (`2001-01-01T00:01:00.000Z`), with 6 or 9 fraction digits only
 * when the value has sub-millisecond parts. Zone-less timestamps (`isAdjustedToUTC=false`) are
 * read as UTC wall-clock time, as ClickHouse reads them. DATE columns become `YYYY-MM-DD`.
 */
export const timestampParsers: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (millis) => isoFromMillis(Number(millis)),
  timestampFromMicroseconds: (micros) => isoWithFraction(micros, 1_000n, 3),
  timestampFromNanoseconds: (nanos) => isoWithFraction(nanos, 1_000_000n, 6),
  dateFromDays: (days) => isoFromMillis(days * 86_400_000)?.slice(0, 10) ?? null,
}

let lastMillis = NaN
let lastIso: string | null = null

/** ISO string of epoch milliseconds; null when out of Date's range. Caches the last value (sorted files repeat it). */
function isoFromMillis(millis: number): string | null {
  if (millis === lastMillis) return lastIso
  const date = new Date(millis)
  lastIso = Number.isNaN(date.getTime()) ? null : date.toISOString()
  lastMillis = millis
  return lastIso
}

/** ISO string of `value` counted in 1/(1000·perMilli) s; extra fraction digits only when non-zero. */
function isoWithFraction(value: bigint, perMilli: bigint, extraDigits: number): string | null {
  let rest = value % perMilli
  let millis = value / perMilli
  if (rest < 0n) {
    rest += perMilli
    millis -= 1n
  }
  const iso = isoFromMillis(Number(millis))
  if (iso === null || rest === 0n) return iso
  return `${iso.slice(0, -1)}${rest.toString().padStart(extraDigits, '0')}Z`
}

/** An opened parquet file: its footer, row count and top-level column names. */
export interface ParquetSource {
  file: AsyncBuffer
  metadata: FileMetaData
  numRows: number
  columns: string[]
}

/**
 * Opens a parquet file and reads its footer.
 * @throws FlowhouseError DECODE_FAILED when the footer cannot be parsed (not a parquet file).
 */
export async function openParquet(path: string): Promise<ParquetSource> {
  const file = await asyncBufferFromFile(path)
  let metadata: FileMetaData
  try {
    metadata = await parquetMetadataAsync(file)
  } catch (error) {
    throw new FlowhouseError('DECODE_FAILED', `${path}: not a readable parquet file: ${messageOf(error)}`, { cause: error })
  }
  const columns = parquetSchema(metadata).children.map((child) => child.element.name)
  return { file, metadata, numRows: Number(metadata.num_rows), columns }
}

/**
 * Yields the rows of `range` in file order, `chunkRows` records at a time, with ids assigned
 * (see `assignIds`). Each row group is decoded once, restricted to the part of the range it holds.
 * @throws FlowhouseError DECODE_FAILED when a row group cannot be decoded.
 */
export async function* parquetChunks(source: ParquetSource, range: RowRange, chunkRows: number, idField: string | null): AsyncGenerator<RecordChunk> {
  const end = Math.min(range.end ?? source.numRows, source.numRows)
  let groupStart = 0
  for (const group of source.metadata.row_groups) {
    const groupEnd = groupStart + Number(group.num_rows)
    const from = Math.max(groupStart, range.start)
    const to = Math.min(groupEnd, end)
    groupStart = groupEnd
    if (from >= to) continue
    const columns = await readColumns(source, from, to)
    for (let first = from; first < to; first += chunkRows) {
      const last = Math.min(first + chunkRows, to)
      yield { firstRow: first, records: assignIds(buildRecords(source.columns, columns, first, last), first, idField) }
    }
    if (groupEnd >= end) return
  }
}

/** A column's values with the file row index of its first value. */
interface ColumnSlice {
  rowStart: number
  data: ArrayLike<unknown>
}

async function readColumns(source: ParquetSource, from: number, to: number): Promise<Map<string, ColumnSlice>> {
  const pieces = new Map<string, ColumnData[]>()
  try {
    await parquetRead({
      file: source.file,
      metadata: source.metadata,
      compressors,
      parsers: timestampParsers,
      rowStart: from,
      rowEnd: to,
      onChunk(chunk) {
        const list = pieces.get(chunk.columnName)
        if (list === undefined) pieces.set(chunk.columnName, [chunk])
        else list.push(chunk)
      },
    })
  } catch (error) {
    throw new FlowhouseError('DECODE_FAILED', `parquet rows ${from}-${to - 1}: ${messageOf(error)}`, { cause: error })
  }
  const columns = new Map<string, ColumnSlice>()
  for (const [name, list] of pieces) columns.set(name, joinPieces(list, from, to))
  return columns
}

/** One slice covering `[from, to)` from the pieces hyparquet delivered (usually a single piece). */
function joinPieces(list: ColumnData[], from: number, to: number): ColumnSlice {
  list.sort((a, b) => a.rowStart - b.rowStart)
  const covering = list.find((p) => p.rowStart <= from && p.rowEnd >= to)
  if (covering !== undefined) return { rowStart: covering.rowStart, data: covering.columnData }
  const data: unknown[] = new Array(to - from).fill(null)
  for (const piece of list) {
    for (let row = Math.max(from, piece.rowStart); row < Math.min(to, piece.rowEnd); row++) data[row - from] = piece.columnData[row - piece.rowStart]
  }
  return { rowStart: from, data }
}

function buildRecords(names: string[], columns: Map<string, ColumnSlice>, first: number, last: number): ReplayRecord[] {
  const slices = names.map((name) => columns.get(name) ?? { rowStart: first, data: [] })
  const records: ReplayRecord[] = new Array(last - first)
  for (let row = first; row < last; row++) {
    const record: ReplayRecord = {}
    for (let c = 0; c < names.length; c++) {
      const slice = slices[c]!
      const value = slice.data[row - slice.rowStart]
      record[names[c]!] = value === undefined ? null : normalizeValue(value)
    }
    records[row - first] = record
  }
  return records
}
