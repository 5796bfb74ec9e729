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

interface Avsc {
  types: { LogicalType: LogicalTypeClass }
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

/** The `logicalTypes` option of avsc (through the registry client's AVRO options). */
export const AVRO_LOGICAL_TYPES: Record<string, LogicalTypeClass> = {
  'timestamp-millis': TimestampMillis,
  'timestamp-micros': TimestampMicros,
  date: DateDays,
  decimal: Decimal,
}
