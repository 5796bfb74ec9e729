/**
 * Record validation: one ajv instance that knows flowhouse's custom keywords, and one
 * compiled validator per schema object (contract: schemas are compiled once).
 */
import type { Static, TSchema } from '@sinclair/typebox'
import AjvModule, { type ErrorObject, type KeywordDefinition, type ValidateFunction } from 'ajv'
import type { DataValidateFunction } from 'ajv/dist/types/index.js'
import addFormatsModule from 'ajv-formats'
import { fullFormats } from 'ajv-formats/dist/formats.js'
import { fieldErrors, type FieldError } from '../util/ajv-errors.ts'
import { CLICKHOUSE_KEYWORD, KEY_KEYWORD, LOW_CARDINALITY_KEYWORD, integerRange, isIntegerType } from './annotations.ts'

// ajv and ajv-formats are CommonJS; under NodeNext the class is on `.default`.
const Ajv = AjvModule.default
const addFormats = addFormatsModule.default
type AjvInstance = InstanceType<typeof Ajv>

/**
 * `x-clickhouse` checks that an integer (a JSON number for Int8..UInt32, a decimal string
 * for Int64..UInt256) fits the annotated width; other annotations only describe the column.
 */
const clickhouseKeyword: KeywordDefinition = {
  keyword: CLICKHOUSE_KEYWORD,
  schemaType: 'string',
  compile(type: string) {
    if (!isIntegerType(type)) return () => true
    const { min, max } = integerRange(type)
    const error: Partial<ErrorObject> = { keyword: CLICKHOUSE_KEYWORD, params: { type }, message: `must be within ${type} range [${min}, ${max}]` }
    const validate: DataValidateFunction = (data: unknown): boolean => {
      const value = typeof data === 'number' && Number.isInteger(data) ? BigInt(data) : typeof data === 'string' && /^-?[0-9]+$/.test(data) ? BigInt(data) : undefined
      const ok = value === undefined || (value >= min && value <= max)
      validate.errors = ok ? [] : [error]
      return ok
    }
    return validate
  },
}

/** Texts each memoised format check remembers; the memo starts again empty when it is full. */
const FORMAT_MEMO_SIZE = 4096

/**
 * `check` remembering its verdict on the last distinct texts (at most FORMAT_MEMO_SIZE). Records
 * of a stream repeat their timestamps and dates (the 1,000 records of a flights message share a
 * few minutes), and ajv-formats' full date-time check (split, two regular expressions, the
 * calendar) costs about half a microsecond a text, more than the rest of a record's validation.
 */
function memoised(check: (text: string) => boolean): (text: string) => boolean {
  const seen = new Map<string, boolean>()
  return (text) => {
    let verdict = seen.get(text)
    if (verdict === undefined) {
      if (seen.size >= FORMAT_MEMO_SIZE) seen.clear()
      verdict = check(text)
      seen.set(text, verdict)
    }
    return verdict
  }
}

/** ajv-formats' full `date`, `time` and `date-time` definitions (RFC 3339 §5.6), their checks memoised. */
function memoisedTimeFormats(ajv: AjvInstance): void {
  for (const name of ['date', 'time', 'date-time'] as const) {
    const format = fullFormats[name]
    if (typeof format !== 'object' || format instanceof RegExp || typeof format.validate !== 'function' || format.async) throw new Error(`ajv-formats' ${name} format is not a synchronous check`)
    const validate = format.validate as (text: string) => boolean
    ajv.addFormat(name, { ...format, type: 'string', validate: memoised(validate) } as typeof format)
  }
}

/**
 * A new ajv instance for record validation: `allErrors: true`, `verbose: true` (errors carry the
 * value and the schema, for the messages of src/util/ajv-errors.ts), ajv-formats (date-time,
 * date, email, uuid ...; the date, time and date-time checks memoised over recent texts), strict mode on, and flowhouse's keywords registered
 * (`x-clickhouse` with integer range checks, `x-key` and `x-low-cardinality` as annotations).
 */
export function createAjv(): AjvInstance {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true })
  addFormats(ajv)
  memoisedTimeFormats(ajv)
  ajv.addKeyword(clickhouseKeyword)
  ajv.addKeyword({ keyword: KEY_KEYWORD, schemaType: 'boolean' })
  ajv.addKeyword({ keyword: LOW_CARDINALITY_KEYWORD, schemaType: 'boolean' })
  return ajv
}

let shared: AjvInstance | undefined
const compiled = new WeakMap<object, ValidateFunction>()

/**
 * The validator of `schema`, compiled on first use and cached by schema object identity
 * (contract: compiled once per schema), so two calls with the same object return the same
 * function. The function returns true or false and leaves ajv's errors in `.errors`.
 * Throws ajv's error if the schema itself is not valid JSON Schema.
 */
export function compileValidator<S extends TSchema>(schema: S): ValidateFunction<Static<S>> {
  let validate = compiled.get(schema)
  if (validate === undefined) {
    shared ??= createAjv()
    validate = shared.compile(schema)
    compiled.set(schema, validate)
  }
  return validate as ValidateFunction<Static<S>>
}

/** What checkRecord found. */
export type RecordVerdict =
  | { readonly outcome: 'valid' }
  /** Valid apart from fields the schema does not declare (policy `ignore`): written without them. */
  | { readonly outcome: 'unknown_fields'; readonly fields: string[] }
  /** Invalid: `errorType` is `unknown_fields` when the only problem is undeclared fields (policy `dead_letter`), else `schema`. */
  | { readonly outcome: 'invalid'; readonly errorType: 'schema' | 'unknown_fields'; readonly errors: FieldError[] }

const VALID: RecordVerdict = { outcome: 'valid' }
const closedSchemas = new WeakMap<object, TSchema>()

/**
 * The schema with `additionalProperties: false` on every object node that does not say
 * otherwise, so ajv reports fields the schema does not declare (one copy per schema object).
 */
export function closedSchema(schema: TSchema): TSchema {
  let closed = closedSchemas.get(schema)
  if (closed === undefined) {
    closed = close(schema) as TSchema
    closedSchemas.set(schema, closed)
  }
  return closed
}

function close(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(close)
  if (typeof node !== 'object' || node === null) return node
  const copy: Record<string | symbol, unknown> = {}
  for (const key of Reflect.ownKeys(node)) {
    const value = (node as Record<string | symbol, unknown>)[key]
    copy[key] = key === 'const' || key === 'enum' || key === 'default' || key === 'examples' ? value : close(value)
  }
  if (copy.type === 'object' && typeof copy.properties === 'object' && copy.additionalProperties === undefined && copy.patternProperties === undefined) copy.additionalProperties = false
  return copy
}

/**
 * Validates one record against `schema` (compiled once, closed as closedSchema does) and sorts
 * it: valid; valid apart from undeclared fields (policy `ignore`); or invalid, with one error
 * per field (src/util/ajv-errors.ts). Under `ignore`, undeclared fields never make a record
 * invalid and are left out of its errors; under `dead_letter` they are errors
 * (`field "x": is not in the schema`). Never throws for any record.
 */
export function checkRecord(schema: TSchema, record: unknown, policy: 'ignore' | 'dead_letter' = 'ignore'): RecordVerdict {
  return recordChecker(schema, policy)(record)
}

/** checkRecord with the schema compiled up front: the function to call once per record. */
export function recordChecker(schema: TSchema, policy: 'ignore' | 'dead_letter' = 'ignore'): (record: unknown) => RecordVerdict {
  const validate = compileValidator(closedSchema(schema))
  return (record) => {
    if (validate(record)) return VALID
    const errors = fieldErrors(validate.errors)
    const unknown = errors.filter((e) => e.rule === 'additionalProperties')
    if (unknown.length === errors.length) {
      if (policy === 'ignore') return { outcome: 'unknown_fields', fields: unknown.map((e) => e.field) }
      return { outcome: 'invalid', errorType: 'unknown_fields', errors }
    }
    return { outcome: 'invalid', errorType: 'schema', errors: policy === 'ignore' ? errors.filter((e) => e.rule !== 'additionalProperties') : errors }
  }
}
