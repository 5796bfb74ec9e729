/**
 * Record validation: one ajv instance that knows flowhouse's custom keywords, and one
 * compiled validator per schema object (contract: schemas are compiled once).
 */
import type { Static, TSchema } from '@sinclair/typebox'
import AjvModule, { type ErrorObject, type KeywordDefinition, type ValidateFunction } from 'ajv'
import type { DataValidateFunction } from 'ajv/dist/types/index.js'
import addFormatsModule from 'ajv-formats'
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

/**
 * A new ajv instance for record validation: `allErrors: true`, ajv-formats (date-time,
 * date, email, uuid ...), strict mode on, and flowhouse's keywords registered
 * (`x-clickhouse` with integer range checks, `x-key` and `x-low-cardinality` as annotations).
 */
export function createAjv(): AjvInstance {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })
  addFormats(ajv)
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
