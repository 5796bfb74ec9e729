/**
 * Output validation that skips what a transform copied unchanged. A field of the output whose
 * schema is the same as the input's (same JSON Schema text, no `$ref`) and whose value is the
 * very primitive the validated input record held before the transform ran cannot fail the
 * output schema, so the output is checked against the schema with that field's property schema
 * replaced by `{}` (anything). Required fields, undeclared fields and root keywords are still
 * checked as before. Validators are compiled once per (output schema, set of skipped fields); at
 * most the first 30 such fields of a schema are ever skipped.
 */
import type { TSchema } from '@sinclair/typebox'
import type { ValidateFunction } from 'ajv'
import { compileValidator } from '../model/schema.ts'

export interface OutputCheck {
  /** Fields whose values may be copied (same property schema in input and output), in order. */
  readonly keys: readonly string[]
  /** The input record's values of `keys`, taken before the transform runs (it may mutate its argument). */
  snapshot(record: unknown): unknown[]
  /** The validator for `output`: the full output schema's, or one skipping the fields copied from `before`. */
  validatorFor(output: unknown, before: readonly unknown[]): ValidateFunction
}

type Properties = Record<string, unknown>

/** Most fields one output check skips (bits of a 31-bit mask). */
const MAX_SKIPPED = 30

const plans = new WeakMap<object, WeakMap<object, OutputCheck>>()

const propertiesOf = (schema: TSchema): Properties | undefined =>
  schema.type === 'object' && typeof schema.properties === 'object' && schema.properties !== null ? (schema.properties as Properties) : undefined

const isPrimitive = (v: unknown) => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

/** The output check of a transform from records of `input` to records of `output` (cached per pair of schema objects). */
export function outputCheck(input: TSchema, output: TSchema): OutputCheck {
  let byInput = plans.get(output)
  if (!byInput) plans.set(output, (byInput = new WeakMap()))
  let plan = byInput.get(input)
  if (!plan) byInput.set(input, (plan = buildCheck(input, output)))
  return plan
}

function buildCheck(input: TSchema, output: TSchema): OutputCheck {
  const full = compileValidator(output)
  const inProps = propertiesOf(input)
  const outProps = propertiesOf(output)
  const keys: string[] = []
  if (inProps && outProps) {
    for (const key of Object.keys(outProps)) {
      if (!Object.hasOwn(inProps, key)) continue
      const text = JSON.stringify(outProps[key])
      if (text === undefined || text.includes('"$ref"') || text !== JSON.stringify(inProps[key])) continue
      keys.push(key)
    }
  }
  // Skippable fields beyond the first 30 are always checked: a copied set is a bit mask in one small integer.
  keys.splice(MAX_SKIPPED)
  const residual = new Map<number, ValidateFunction>()
  return {
    keys,
    snapshot: (record) => (keys.length > 0 && typeof record === 'object' && record !== null ? keys.map((k) => (record as Properties)[k]) : []),
    validatorFor(value, before) {
      if (before.length === 0 || typeof value !== 'object' || value === null || Array.isArray(value)) return full
      let mask = 0
      for (let i = 0; i < keys.length; i++) {
        const v = (value as Properties)[keys[i]!]
        if (v !== undefined && v === before[i] && isPrimitive(v) && Object.hasOwn(value, keys[i]!)) mask |= 1 << i
      }
      if (mask === 0) return full
      let validate = residual.get(mask)
      if (!validate) {
        const properties: Properties = { ...outProps }
        for (let i = 0; i < keys.length; i++) if (mask & (1 << i)) properties[keys[i]!] = {}
        validate = compileValidator({ ...output, properties } as TSchema)
        residual.set(mask, validate)
      }
      return validate
    },
  }
}
