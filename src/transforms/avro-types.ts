/**
 * Avro logical types as the pipeline schema and JSONEachRow expect them, given to avsc (the Avro
 * library @kafkajs/confluent-schema-registry decodes with) through the registry client's
 * `logicalTypes` option. Decoding (`_fromValue`) and encoding (`_toValue`, used by replay) are
 * inverse. A value read past the end of a truncated buffer is passed through as text; avsc then
 * reports the truncation:
 *
 * | Avro | decoded as | encoded from |
 * | `timestamp-millis` (long) | ISO-8601 UTC text, ms precision (`2024-01-02T03:04:05.678Z`) | that text, or epoch ms |
 * | `timestamp-micros` (long) | ISO-8601 UTC text, µs precision (`…05.678901Z`) | that text, or epoch µs |
 * | `date` (int, days since 1970-01-01) | `YYYY-MM-DD` | that text, or days |
 * | `decimal` (bytes or fixed, precision, scale) | decimal text (`-12.50` for scale 2) | that text, or a number |
 *
 * A plain `long` decodes to a number when it is a safe integer (|n| ≤ 2^53 − 1) and to a `bigint`
 * beyond (normalize.ts makes it decimal text, which an `Int64` column takes): avsc's own long type
 * refuses those values ("potential precision loss"). It encodes from a number, a bigint or decimal
 * text within the signed 64-bit range.
 *
 * Other logical types decode as their underlying type (`uuid` is a string already; `time-*` and
 * `local-timestamp-*` stay numbers). avsc is loaded from the registry client's own dependencies
 * (the same copy it decodes with), not imported as a dependency of flowhouse.
 */
import { createRequire } from 'node:module'

/** The part of avsc's `types.LogicalType` these classes use. */
interface LogicalTypeBase {
  readonly underlyingType: { typeName: string; size?: number }
}
type LogicalTypeClass = new (schema: Record<string, unknown>, opts?: unknown) => LogicalTypeBase

/** avsc's custom long type factory (`LongType.__with`): the methods get and give the long's raw zig-zag varint bytes (noUnpack). */
interface LongMethods {
  fromBuffer(bytes: Buffer): number | bigint
  toBuffer(value: unknown): Buffer
  fromJSON(value: unknown): number | bigint
  toJSON(value: number | bigint): number | string
  isValid(value: unknown): boolean
  compare(a: unknown, b: unknown): number
}

interface Avsc {
  types: { LogicalType: LogicalTypeClass; LongType: { __with(methods: LongMethods, noUnpack: boolean): object } }
  Type: { isType(type: unknown, ...names: string[]): boolean }
}

const registryEntry = createRequire(import.meta.url).resolve('@kafkajs/confluent-schema-registry')
const avsc = createRequire(registryEntry)('avsc') as Avsc
const { LogicalType } = avsc.types

const DAY_MS = 86_400_000

function parseTime(value: unknown, perMs: number): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value
  if (typeof value !== 'string') return undefined
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) return undefined
  // Digits beyond milliseconds (timestamp-micros) are kept.
  const micros = perMs === 1_000 ? Number((/\.\d{3}(\d{1,3})/.exec(value)?.[1] ?? '').padEnd(3, '0')) : 0
  return ms * perMs + micros
}

class TimestampMillis extends LogicalType {
  _fromValue(value: number): string {
    // A truncated buffer reads as undefined; avsc reports it once the read ends.
    return Number.isFinite(value) ? new Date(value).toISOString() : String(value)
  }
  _toValue(value: unknown): number | undefined {
    return parseTime(value, 1)
  }
  _resolve(type: unknown): ((value: number) => string) | undefined {
    return avsc.Type.isType(type, 'long', 'logical:timestamp-millis') ? (value) => this._fromValue(value) : undefined
  }
}

class TimestampMicros extends LogicalType {
  _fromValue(value: number): string {
    if (!Number.isFinite(value)) return String(value)
    const ms = Math.floor(value / 1_000)
    const micros = String(value - ms * 1_000).padStart(3, '0')
    return `${new Date(ms).toISOString().slice(0, -1)}${micros}Z`
  }
  _toValue(value: unknown): number | undefined {
    return parseTime(value, 1_000)
  }
  _resolve(type: unknown): ((value: number) => string) | undefined {
    return avsc.Type.isType(type, 'long', 'logical:timestamp-micros') ? (value) => this._fromValue(value) : undefined
  }
}

class DateDays extends LogicalType {
  _fromValue(value: number): string {
    if (!Number.isFinite(value)) return String(value)
    return new Date(value * DAY_MS).toISOString().slice(0, 10)
  }
  _toValue(value: unknown): number | undefined {
    if (typeof value === 'number' && Number.isInteger(value)) return value
    if (typeof value !== 'string') return undefined
    const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value)
    return Number.isNaN(ms) ? undefined : Math.floor(ms / DAY_MS)
  }
  _resolve(type: unknown): ((value: number) => string) | undefined {
    return avsc.Type.isType(type, 'int', 'logical:date') ? (value) => this._fromValue(value) : undefined
  }
}

class Decimal extends LogicalType {
  private readonly scale: number
  constructor(schema: Record<string, unknown>, opts?: unknown) {
    super(schema, opts)
    this.scale = typeof schema.scale === 'number' ? schema.scale : 0
  }
  _fromValue(bytes: Buffer): string {
    if (!(bytes instanceof Uint8Array)) return String(bytes)
    let n = 0n
    for (const byte of bytes) n = (n << 8n) | BigInt(byte)
    if (bytes.length > 0 && bytes[0]! & 0x80) n -= 1n << BigInt(8 * bytes.length)
    const digits = (n < 0n ? -n : n).toString().padStart(this.scale + 1, '0')
    const text = this.scale === 0 ? digits : `${digits.slice(0, -this.scale)}.${digits.slice(-this.scale)}`
    return n < 0n ? `-${text}` : text
  }
  _toValue(value: unknown): Buffer | undefined {
    const text = typeof value === 'number' ? value.toFixed(this.scale) : value
    if (typeof text !== 'string') return undefined
    const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text)
    if (!match) return undefined
    const fraction = (match[3] ?? '').padEnd(this.scale, '0')
    if (fraction.length > this.scale) return undefined
    let n = BigInt(match[2]! + fraction)
    if (match[1] === '-') n = -n
    const size = this.underlyingType.size ?? byteLength(n)
    const bytes = Buffer.alloc(size)
    let rest = n < 0n ? (1n << BigInt(8 * size)) + n : n
    for (let i = size - 1; i >= 0; i--) {
      bytes[i] = Number(rest & 0xffn)
      rest >>= 8n
    }
    return bytes
  }
}

/** Bytes of the shortest two's-complement form of `n`. */
function byteLength(n: bigint): number {
  let size = 1
  while (n >= 1n << BigInt(8 * size - 1) || n < -(1n << BigInt(8 * size - 1))) size++
  return size
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n

/** A long as a bigint, or undefined when `value` is not an integer (number, bigint or decimal text) within the signed 64-bit range. */
function toBigInt(value: unknown): bigint | undefined {
  let n: bigint
  if (typeof value === 'bigint') n = value
  else if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value)
  else if (typeof value === 'string' && /^-?\d{1,19}$/.test(value)) n = BigInt(value)
  else return undefined
  return n >= INT64_MIN && n <= INT64_MAX ? n : undefined
}

/** The value of a zig-zag varint (Avro's long encoding): a number when safe, else a bigint. */
function fromVarint(bytes: Buffer): number | bigint {
  // Up to 7 bytes hold 49 bits: exact in a double, the common case.
  if (bytes.length <= 7) {
    let n = 0
    let scale = 1
    for (const byte of bytes) {
      n += (byte & 0x7f) * scale
      scale *= 128
    }
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2
  }
  let z = 0n
  let shift = 0n
  for (const byte of bytes) {
    z |= BigInt(byte & 0x7f) << shift
    shift += 7n
  }
  z = BigInt.asUintN(64, z)
  const n = (z >> 1n) ^ -(z & 1n)
  return n <= SAFE && n >= -SAFE ? Number(n) : n
}

/** The zig-zag varint bytes of a signed 64-bit integer. */
function toVarint(n: bigint): Buffer {
  let z = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n))
  const bytes: number[] = []
  while (z >= 0x80n) {
    bytes.push(Number(z & 0x7fn) | 0x80)
    z >>= 7n
  }
  bytes.push(Number(z))
  return Buffer.from(bytes)
}

const invalidLong = (value: unknown) => new Error(`invalid long: ${String(value)} is not an integer within the signed 64-bit range`)

/** Avro `long` over the full signed 64-bit range (see the file comment). */
const LONG = avsc.types.LongType.__with(
  {
    fromBuffer: fromVarint,
    toBuffer(value) {
      const n = toBigInt(value)
      if (n === undefined) throw invalidLong(value)
      return toVarint(n)
    },
    fromJSON(value) {
      const n = toBigInt(value)
      if (n === undefined) throw invalidLong(value)
      return n <= SAFE && n >= -SAFE ? Number(n) : n
    },
    toJSON: (value) => (typeof value === 'bigint' ? value.toString() : value),
    isValid: (value) => toBigInt(value) !== undefined,
    compare(a, b) {
      const x = toBigInt(a) ?? 0n
      const y = toBigInt(b) ?? 0n
      return x === y ? 0 : x < y ? -1 : 1
    },
  },
  true,
)

/**
 * The `typeHook` option of avsc (through the registry client's AVRO options): every plain `long`
 * (not a logical type's underlying long) is read and written as the 64-bit LONG above.
 */
export function avroTypeHook(schema: unknown): object | undefined {
  if (schema === 'long') return LONG
  if (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'long' && (schema as { logicalType?: unknown }).logicalType === undefined) return LONG
  return undefined
}

/** The `logicalTypes` option of avsc (through the registry client's AVRO options). */
export const AVRO_LOGICAL_TYPES: Record<string, LogicalTypeClass> = {
  'timestamp-millis': TimestampMillis,
  'timestamp-micros': TimestampMicros,
  date: DateDays,
  decimal: Decimal,
}
