/**
 * Protobuf well-known types for the schemas of a registry: a Confluent-compatible registry treats
 * `google/protobuf/*.proto` imports as built in (no schema references), but protobufjs parses a
 * schema text alone and cannot resolve `google.protobuf.Timestamp` without them, so every message
 * of such a schema would fail to decode. `withWellKnownTypes` adds protobufjs's own definitions of
 * those files (`protobuf.common`) to a parsed schema's root before its first decode.
 *
 * | well-known type | decoded as | pipeline schema |
 * | `google.protobuf.Timestamp` | ISO-8601 UTC text, ms / µs / ns digits as the value has them (`2024-01-02T03:04:05.678Z`) | `t.DateTime()` (`DateTime64(3)`: finer digits are cut) |
 * | `Duration`, `Struct`, `Any`, the wrappers (`Int32Value` …), `Empty`, `FieldMask` | the message as an object (`{ "seconds": "5", "nanos": 0 }`, `{ "value": 3 }`) | `t.Object({...})` |
 *
 * Field names stay as the schema declares them (snake_case is not made camelCase). A Timestamp
 * outside years 0–9999 does not decode (`invalid_payload`). protobufjs is loaded from
 * the registry client's own dependencies (the copy it decodes with), as avro-types.ts does avsc.
 */
import { createRequire } from 'node:module'

/** The part of a protobufjs Root this module uses. */
export interface ProtoRoot {
  lookup(path: string): unknown
  addJSON(nested: Record<string, unknown>): unknown
}

interface Protobufjs {
  parse: { defaults: { keepCase?: boolean } }
  common: { get(file: string): { nested: Record<string, unknown> } | null }
  wrappers: Record<string, ProtoWrapper>
}

/** A protobufjs wrapper; protobufjs binds both functions to a copy of the type holding its own converters. */
interface ProtoWrapper {
  fromObject(this: { fromObject(object: unknown): unknown }, object: unknown): unknown
  toObject(this: unknown, message: Record<string, unknown>, options?: unknown): unknown
}

const registryEntry = createRequire(import.meta.url).resolve('@kafkajs/confluent-schema-registry')
const protobuf = createRequire(registryEntry)('protobufjs') as Protobufjs

// Field names as the .proto declares them (`trip_id`), as Confluent's converters and ClickHouse's
// Protobuf format read them, not protobufjs's default camelCase (`tripId`): the registry client
// parses schema texts with protobufjs's default options, `parse.defaults`.
protobuf.parse.defaults.keepCase = true

/** Each well-known file, with one type it defines (present in a root once the file is added). */
const WELL_KNOWN: ReadonlyArray<readonly [file: string, type: string]> = [
  ['google/protobuf/timestamp.proto', '.google.protobuf.Timestamp'],
  ['google/protobuf/duration.proto', '.google.protobuf.Duration'],
  ['google/protobuf/any.proto', '.google.protobuf.Any'],
  ['google/protobuf/empty.proto', '.google.protobuf.Empty'],
  ['google/protobuf/struct.proto', '.google.protobuf.Struct'],
  ['google/protobuf/wrappers.proto', '.google.protobuf.Int32Value'],
  ['google/protobuf/field_mask.proto', '.google.protobuf.FieldMask'],
]

const done = new WeakSet<object>()

/**
 * Adds the well-known types `root` does not define yet (a schema's own definition wins). Once per
 * root; call it before the root's first decode. Never throws: a file that cannot be added is left
 * out, and a field of that type then fails to decode with protobufjs's own message.
 */
export function withWellKnownTypes(root: ProtoRoot): void {
  if (done.has(root)) return
  done.add(root)
  for (const [file, type] of WELL_KNOWN) {
    const json = protobuf.common.get(file)
    if (!json || root.lookup(type)) continue
    try {
      root.addJSON(json.nested)
    } catch {
      // A clashing definition in the schema: keep the schema's own.
    }
  }
}

/** Digits of a fraction of a second: `.678`, `.678901`, `.678901234`, as `nanos` needs them. */
function fraction(nanos: number): string {
  if (nanos % 1_000_000 === 0) return `.${String(nanos / 1_000_000).padStart(3, '0')}`
  if (nanos % 1_000 === 0) return `.${String(nanos / 1_000).padStart(6, '0')}`
  return `.${String(nanos).padStart(9, '0')}`
}

/**
 * ISO-8601 UTC text of a Timestamp message (`seconds` an int64 as protobufjs holds it: number,
 * Long or text; `nanos` 0..999,999,999).
 * @throws RangeError when the instant is outside years 0–9999 or `nanos` is out of range.
 */
export function timestampText(seconds: unknown, nanos: unknown): string {
  const s = Number(typeof seconds === 'object' && seconds !== null ? String(seconds) : (seconds ?? 0))
  const n = Number(nanos ?? 0)
  if (!Number.isSafeInteger(s) || !Number.isInteger(n) || n < 0 || n > 999_999_999) throw new RangeError(`google.protobuf.Timestamp { seconds: ${String(seconds)}, nanos: ${String(nanos)} } is not a valid instant`)
  const iso = new Date(s * 1000).toISOString()
  if (iso.startsWith('+') || iso.startsWith('-')) throw new RangeError(`google.protobuf.Timestamp seconds ${s} is outside years 0-9999`)
  return `${iso.slice(0, 19)}${fraction(n)}Z`
}

// protobufjs's hook for common types (its `wrappers`): the Timestamp type's toObject, used when a
// message holding one is made an object (normalize.ts), gives ISO text; fromObject stays its own.
protobuf.wrappers['.google.protobuf.Timestamp'] = {
  fromObject(object) {
    return this.fromObject(object)
  },
  toObject: (message) => timestampText(message.seconds, message.nanos),
}
