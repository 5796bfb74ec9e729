/**
 * The schema DSL. Schemas are TypeBox schemas, so they are JSON Schema (ajv compiles them
 * as they are) and TypeScript infers record types from them (`Static<typeof schema>`).
 * `t` is TypeBox's `Type` plus helpers that pin a ClickHouse type with the `x-clickhouse`
 * keyword; `Key` marks the key field with `x-key`.
 */
import {
  Type,
  type IntegerOptions,
  type NumberOptions,
  type SchemaOptions,
  type StringOptions,
  type TInteger,
  type TNull,
  type TNumber,
  type TOptional,
  type TSchema,
  type TString,
  type TUnion,
} from '@sinclair/typebox'
import {
  CLICKHOUSE_KEYWORD,
  DATE_TYPE,
  DATETIME_TYPE,
  KEY_KEYWORD,
  LOW_CARDINALITY_KEYWORD,
  integerRange,
  type LargeIntegerType,
  type SmallIntegerType,
} from './annotations.ts'

export type { Static, TSchema } from '@sinclair/typebox'
export { checkRecord, compileValidator, createAjv, recordChecker } from './validator.ts'

function smallInteger(type: SmallIntegerType) {
  const { min, max } = integerRange(type)
  return (options: IntegerOptions = {}): TInteger => Type.Integer({ minimum: Number(min), maximum: Number(max), ...options, [CLICKHOUSE_KEYWORD]: type })
}

function largeInteger(type: LargeIntegerType) {
  const { min, max } = integerRange(type)
  const digits = Math.max(String(min).length, String(max).length)
  const pattern = type.startsWith('U') ? '^[0-9]+$' : '^-?[0-9]+$'
  return (options: StringOptions = {}): TString => Type.String({ pattern, minLength: 1, maxLength: digits, ...options, [CLICKHOUSE_KEYWORD]: type })
}

/** flowhouse's additions to TypeBox's `Type`. */
const helpers = {
  /** JSON integer in [-128, 127] → `Int8`. */
  Int8: smallInteger('Int8'),
  /** JSON integer in [-32768, 32767] → `Int16`. */
  Int16: smallInteger('Int16'),
  /** JSON integer in [-2^31, 2^31 - 1] → `Int32`. */
  Int32: smallInteger('Int32'),
  /** JSON integer in [0, 255] → `UInt8`. */
  UInt8: smallInteger('UInt8'),
  /** JSON integer in [0, 65535] → `UInt16`. */
  UInt16: smallInteger('UInt16'),
  /** JSON integer in [0, 2^32 - 1] → `UInt32`. */
  UInt32: smallInteger('UInt32'),
  /** Decimal string, range-checked → `Int64` (contract: large integers as strings). */
  Int64: largeInteger('Int64'),
  /** Decimal string, range-checked → `UInt64` (contract: large integers as strings). */
  UInt64: largeInteger('UInt64'),
  /** Decimal string, range-checked → `Int128`. */
  Int128: largeInteger('Int128'),
  /** Decimal string, range-checked → `UInt128`. */
  UInt128: largeInteger('UInt128'),
  /** Decimal string, range-checked → `Int256`. */
  Int256: largeInteger('Int256'),
  /** Decimal string, range-checked → `UInt256`. */
  UInt256: largeInteger('UInt256'),
  /** JSON number → `Float32` (a plain `t.Number()` is `Float64`). */
  Float32: (options: NumberOptions = {}): TNumber => Type.Number({ ...options, [CLICKHOUSE_KEYWORD]: 'Float32' }),
  /** RFC 3339 date-time string, e.g. `2001-01-01T06:00:00Z` → `DateTime64(3, 'UTC')`. */
  DateTime: (options: StringOptions = {}): TString => Type.String({ ...options, format: 'date-time', [CLICKHOUSE_KEYWORD]: DATETIME_TYPE }),
  /**
   * Calendar date string `YYYY-MM-DD` → `Date32`. Replaces TypeBox's `Type.Date()` (a
   * JavaScript Date object, which JSON cannot carry).
   */
  Date: (options: StringOptions = {}): TString => Type.String({ ...options, format: 'date', [CLICKHOUSE_KEYWORD]: DATE_TYPE }),
  /** A string column stored as `LowCardinality(String)`; only `t.String()` may be wrapped (checked by the type map). */
  LowCardinality: <S extends TSchema>(schema: S): S => ({ ...schema, [LOW_CARDINALITY_KEYWORD]: true }),
  /** `T | null` → `Nullable(T)`. Unlike `t.Optional`, the field must be present but may be null. */
  Nullable: <S extends TSchema>(schema: S, options: SchemaOptions = {}): TUnion<[S, TNull]> => Type.Union([schema, Type.Null()], options),
  /**
   * An object field that may be missing or JSON `null` (both stored as NULL) → `Nullable(T)`.
   * TypeBox's own `Type.Optional` only allows the field to be missing; this one also takes null,
   * as JSON data has it. The record type is `T | null | undefined`.
   */
  Optional: <S extends TSchema>(schema: S): TOptional<TUnion<[S, TNull]>> => Type.Optional((acceptsNull(schema) ? schema : Type.Union([schema, Type.Null()])) as TUnion<[S, TNull]>),
}

/** Whether a schema already admits null (`t.Nullable(T)`, a union with `t.Null()`, `type: [..., 'null']`). */
function acceptsNull(schema: TSchema): boolean {
  const node = schema as { type?: unknown; anyOf?: unknown }
  if (node.type === 'null' || (Array.isArray(node.type) && node.type.includes('null'))) return true
  return Array.isArray(node.anyOf) && node.anyOf.some((member: { type?: unknown }) => member?.type === 'null')
}

/** TypeBox's builder with `Date` replaced by the flowhouse helper of the same name. */
export type SchemaBuilder = Omit<typeof Type, keyof typeof helpers> & typeof helpers

/**
 * The schema builder: every TypeBox `Type.*` function plus `Int8` … `UInt256`, `Float32`,
 * `DateTime`, `Date`, `LowCardinality`, `Nullable`, and an `Optional` that also accepts null. Whether a schema maps to ClickHouse
 * is checked when a table, stream or pipeline is built from it (typemap.ts), not here.
 */
export const t: SchemaBuilder = Object.create(
  Type,
  // Own properties, not assignment: TypeBox's CommonJS build defines Type's members as getters.
  Object.fromEntries(Object.entries(helpers).map(([name, value]) => [name, { value, enumerable: true }])),
) as SchemaBuilder

/**
 * Marks the key field of a record: returns a copy of `schema` with `x-key: true`; the record
 * type is unchanged. Exactly one top-level field of a table's schema must be a Key, and it
 * must come first in orderByFields (contract: Key requirements).
 */
export function Key<S extends TSchema>(schema: S): S {
  return { ...schema, [KEY_KEYWORD]: true }
}
