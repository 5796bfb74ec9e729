/** Row range selection (`skip`, `limit`) and row identity (`idField`) shared by the readers. */
import { FlowhouseError } from '../errors.ts'
import { replayDefaults, type RowSelection } from './options.ts'
import type { ReplayRecord } from './types.ts'

/** A half-open row range `[start, end)`; `end` is undefined when the range runs to the end of the file. */
export interface RowRange {
  start: number
  end: number | undefined
}

/**
 * Resolves `skip`/`limit` into a row range.
 * @throws FlowhouseError BAD_REQUEST when `skip` or `limit` is not a non-negative safe integer.
 */
export function rowRange(selection: RowSelection): RowRange {
  const start = selection.skip ?? 0
  checkCount('skip', start)
  if (selection.limit === undefined) return { start, end: undefined }
  checkCount('limit', selection.limit)
  return { start, end: start + selection.limit }
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new FlowhouseError('BAD_REQUEST', `${name} must be a non-negative integer, got ${String(value)}`, { context: { field: name } })
  }
}

/** The id field in effect: `replayDefaults.idField` when undefined, none when null. */
export function idFieldOf(selection: RowSelection): string | null {
  return selection.idField === undefined ? replayDefaults.idField : selection.idField
}

/**
 * Gives every record lacking `idField` (undefined or null) its 0-based row index in the file as a
 * decimal string: record `i` of the array is row `firstRow + i`. Mutates and returns `records`.
 * With `idField` null it does nothing. Never throws.
 */
export function assignIds(records: ReplayRecord[], firstRow: number, idField: string | null): ReplayRecord[] {
  if (idField === null) return records
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    if (record[idField] == null) record[idField] = String(firstRow + i)
  }
  return records
}
