/**
 * File readers of the replay stage: a file becomes an async iterable of record chunks in file
 * order, with the row range applied and ids assigned. The format comes from the extension:
 * `.parquet` (any codec, read row group by row group) or `.json` (one JSON array, streamed).
 */
import { stat } from 'node:fs/promises'
import { extname } from 'node:path'
import { FlowhouseError } from '../errors.ts'
import { jsonArrayChunks } from './json-reader.ts'
import { replayDefaults, type ReaderOptions } from './options.ts'
import { openParquet, parquetChunks } from './parquet-reader.ts'
import { idFieldOf, rowRange } from './rows.ts'
import type { RecordChunk, ReplayFormat } from './types.ts'

/** An opened input file. Iterate `chunks()` once; breaking out of the loop closes the file. */
export interface RecordReader {
  format: ReplayFormat
  /** Rows in the file when known without reading it all (parquet footer), else undefined. */
  fileRows: number | undefined
  /** Records the selected range will yield when known (parquet; JSON only through `limit` as an upper bound is not exact, so undefined). */
  totalRows: number | undefined
  /** Record chunks in file order, at most `chunkRows` records each. */
  chunks(): AsyncGenerator<RecordChunk>
}

/**
 * The input format of a file, from its extension (case-insensitive).
 * @throws FlowhouseError BAD_REQUEST for any other extension.
 */
export function formatOf(file: string): ReplayFormat {
  const ext = extname(file).toLowerCase()
  if (ext === '.parquet') return 'parquet'
  if (ext === '.json') return 'json'
  throw new FlowhouseError('BAD_REQUEST', `cannot replay "${file}": unsupported file type "${ext || '(none)'}"; use a .parquet file or a .json file holding one JSON array of records`, { context: { file } })
}

/**
 * Opens `file` for reading the selected rows (see `RowSelection`: `skip`, `limit`, `idField`).
 * Values are normalised to JSON-safe records: timestamps become ISO-8601 strings with `Z`,
 * 64-bit integers become numbers when safe, else strings (`normalizeValue`).
 * @throws FlowhouseError BAD_REQUEST for an unsupported extension or invalid skip/limit/chunkRows,
 *   NOT_FOUND when the file does not exist, DECODE_FAILED when a parquet footer is unreadable.
 *   Errors in the data itself surface while iterating `chunks()` (DECODE_FAILED).
 */
export async function openReader(file: string, options: ReaderOptions = {}): Promise<RecordReader> {
  const format = formatOf(file)
  const range = rowRange(options)
  const idField = idFieldOf(options)
  const chunkRows = options.chunkRows ?? replayDefaults.chunkRows
  if (!Number.isSafeInteger(chunkRows) || chunkRows < 1) throw new FlowhouseError('BAD_REQUEST', `chunkRows must be a positive integer, got ${String(chunkRows)}`)
  try {
    const info = await stat(file)
    if (!info.isFile()) throw new FlowhouseError('BAD_REQUEST', `cannot replay "${file}": not a regular file`, { context: { file } })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new FlowhouseError('NOT_FOUND', `cannot replay "${file}": no such file`, { context: { file } })
    throw error
  }
  if (format === 'json') {
    const normalizeDates = options.normalizeDates ?? true
    return { format, fileRows: undefined, totalRows: undefined, chunks: () => jsonArrayChunks(file, { range, chunkRows, idField, normalizeDates }) }
  }
  const source = await openParquet(file)
  const end = Math.min(range.end ?? source.numRows, source.numRows)
  return { format, fileRows: source.numRows, totalRows: Math.max(0, end - range.start), chunks: () => parquetChunks(source, range, chunkRows, idField) }
}

/**
 * Reads the selected rows of a file into memory. Meant for tests and small files; replay streams.
 * @throws the errors of `openReader` and of iterating its chunks.
 */
export async function readAll(file: string, options: ReaderOptions = {}): Promise<RecordChunk['records']> {
  const reader = await openReader(file, options)
  const out: RecordChunk['records'] = []
  for await (const chunk of reader.chunks()) for (const record of chunk.records) out.push(record)
  return out
}
