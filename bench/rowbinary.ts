/**
 * A RowBinary encoder for the column types of the flights table (ClickHouse docs, "Formats:
 * RowBinary"): little-endian fixed-width integers and floats, strings as a LEB128 length then
 * their UTF-8 bytes, `Bool` as one byte, `DateTime` as UInt32 seconds, `DateTime64(3, …)` as Int64
 * milliseconds, `Date` as UInt16 days, `Date32` as Int32 days, `Nullable(T)` as a 0/1 byte then T,
 * `LowCardinality(T)` as T. Used by the insert-format benchmark to measure what building
 * RowBinary in JavaScript costs against JSONEachRow.
 */

type Writer = (out: Out, value: unknown) => void

/** A growing byte buffer. */
class Out {
  buf = Buffer.allocUnsafe(1 << 20)
  pos = 0
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }
}

const DAY_MS = 86_400_000

function leb128(out: Out, n: number): void {
  out.ensure(5)
  while (n >= 0x80) {
    out.buf[out.pos++] = (n & 0x7f) | 0x80
    n >>>= 7
  }
  out.buf[out.pos++] = n
}

function fixed(width: number, write: (buf: Buffer, value: number, pos: number) => void): Writer {
  return (out, value) => {
    out.ensure(width)
    write(out.buf, Number(value), out.pos)
    out.pos += width
  }
}

const millis = (value: unknown): number => {
  const ms = typeof value === 'number' ? value : Date.parse(String(value))
  if (!Number.isFinite(ms)) throw new Error(`not a date-time: ${JSON.stringify(value)}`)
  return ms
}

/**
 * The writer of one ClickHouse column type.
 * @throws Error for a type this encoder does not cover (the message names it).
 */
function writerOf(type: string): Writer {
  const inner = /^(Nullable|LowCardinality)\((.*)\)$/.exec(type)
  if (inner?.[1] === 'LowCardinality') return writerOf(inner[2]!)
  if (inner?.[1] === 'Nullable') {
    const write = writerOf(inner[2]!)
    return (out, value) => {
      out.ensure(1)
      if (value === null || value === undefined) {
        out.buf[out.pos++] = 1
        return
      }
      out.buf[out.pos++] = 0
      write(out, value)
    }
  }
  if (/^DateTime64\(3/.test(type)) {
    return (out, value) => {
      out.ensure(8)
      out.buf.writeBigInt64LE(BigInt(millis(value)), out.pos)
      out.pos += 8
    }
  }
  if (/^DateTime(\(|$)/.test(type)) return (out, value) => fixed(4, (b, v, p) => b.writeUInt32LE(v, p))(out, Math.floor(millis(value) / 1000))
  switch (type) {
    case 'String':
      return (out, value) => {
        const s = String(value)
        const bytes = Buffer.byteLength(s)
        leb128(out, bytes)
        out.ensure(bytes)
        out.pos += out.buf.write(s, out.pos, 'utf8')
      }
    case 'Bool':
    case 'UInt8':
      return fixed(1, (b, v, p) => b.writeUInt8(typeof v === 'boolean' ? Number(v) : v, p))
    case 'Int8':
      return fixed(1, (b, v, p) => b.writeInt8(v, p))
    case 'Int16':
      return fixed(2, (b, v, p) => b.writeInt16LE(v, p))
    case 'UInt16':
      return fixed(2, (b, v, p) => b.writeUInt16LE(v, p))
    case 'Int32':
      return fixed(4, (b, v, p) => b.writeInt32LE(v, p))
    case 'UInt32':
      return fixed(4, (b, v, p) => b.writeUInt32LE(v, p))
    case 'Float32':
      return fixed(4, (b, v, p) => b.writeFloatLE(v, p))
    case 'Float64':
      return fixed(8, (b, v, p) => b.writeDoubleLE(v, p))
    case 'Date':
      return (out, value) => fixed(2, (b, v, p) => b.writeUInt16LE(v, p))(out, Math.floor(millis(value) / DAY_MS))
    case 'Date32':
      return (out, value) => fixed(4, (b, v, p) => b.writeInt32LE(v, p))(out, Math.floor(millis(value) / DAY_MS))
    default:
      throw new Error(`RowBinary: column type ${type} is not covered by this encoder`)
  }
}

/**
 * An encoder of rows (objects keyed by column name) into one RowBinary body, for `columns` in
 * table order as DESCRIBE TABLE lists them.
 * @throws Error for an uncovered column type (at creation) or a value that is not a date-time
 *   where one is expected (at encoding).
 */
export function rowBinaryEncoder(columns: Array<{ name: string; type: string }>): (rows: readonly Record<string, unknown>[]) => Buffer {
  const writers = columns.map((c) => [c.name, writerOf(c.type)] as const)
  return (rows) => {
    const out = new Out()
    for (const row of rows) for (const [name, write] of writers) write(out, row[name])
    return out.buf.subarray(0, out.pos)
  }
}
