/** Parsers of numeric command-line arguments (commander `argParser`s). */
import { InvalidArgumentError } from 'commander'

/** `--limit 5` → 5. @throws InvalidArgumentError unless the text is an integer above 0. */
export function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer')
  return n
}

/** `--skip 0` → 0. @throws InvalidArgumentError unless the text is an integer of 0 or more. */
export function nonNegativeInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer')
  return n
}
