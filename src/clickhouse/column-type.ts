/**
 * ClickHouse column types as a small grammar: a type text is split into tokens, parsed into a tree
 * and printed back from the tree, so what reaches a CREATE TABLE is text flowhouse wrote, never the
 * caller's. Only the types flowhouse maps to (src/model/typemap.ts) and the ones a view's SELECT
 * produces are accepted, with their parameters (ClickHouse "Data types" reference):
 *
 *   Simple      String, Bool, UUID, IPv4, IPv6, Date, Date32, [U]Int8..256, Float32/64, BFloat16, Nothing
 *   FixedString(N)                         N a positive integer
 *   DateTime[('tz')]                       DateTime64(P[, 'tz'])   P 0..9
 *   Decimal(P[, S])  Decimal32/64/128/256(S)
 *   Enum8('a' = 1, ...)  Enum16(...)       values integers in the width's range
 *   Nullable(T)  LowCardinality(T)  Array(T)  Map(K, V)  Tuple(T, ...) or Tuple(name T, ...)
 *   AggregateFunction(fn[(params)], T...)  SimpleAggregateFunction(fn, T)  Variant(T, ...)
 *   and the other types DESCRIBE gives for a SELECT: JSON, Dynamic, geo types, IntervalX
 *
 * Anything else (a DEFAULT, CODEC, a closing parenthesis followed by an ENGINE, a comment) is not
 * part of the grammar and is refused.
 */
import { ConfigError } from '../errors.ts'
import { sqlString } from './sql.ts'

type Tok = { kind: 'ident' | 'number' | 'string' | 'punct'; text: string; pos: number }

/** A parsed type: its name and arguments (nested types, numbers, strings, enum items, named tuple fields). */
export type TypeArg =
  | { k: 'type'; type: TypeNode }
  | { k: 'number'; value: string }
  | { k: 'string'; value: string }
  | { k: 'enum'; name: string; value: number }
  | { k: 'field'; name: string; type: TypeNode }
  | { k: 'fn'; name: string; params: string[] }
export interface TypeNode {
  name: string
  args: TypeArg[]
}

const SIMPLE = new Set([
  'String', 'Bool', 'UUID', 'IPv4', 'IPv6', 'Date', 'Date32', 'Nothing', 'Float32', 'Float64', 'BFloat16',
  'Int8', 'Int16', 'Int32', 'Int64', 'Int128', 'Int256', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'UInt128', 'UInt256',
  // What DESCRIBE may give for a view's SELECT.
  'JSON', 'Dynamic', 'Point', 'Ring', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon',
  'IntervalNanosecond', 'IntervalMicrosecond', 'IntervalMillisecond', 'IntervalSecond', 'IntervalMinute', 'IntervalHour', 'IntervalDay', 'IntervalWeek', 'IntervalMonth', 'IntervalQuarter', 'IntervalYear',
])
const WRAPPERS = new Set(['Nullable', 'LowCardinality', 'Array'])
const ENUM_RANGE: Record<string, [number, number]> = { Enum8: [-128, 127], Enum16: [-32_768, 32_767] }
const DECIMAL_PRECISION: Record<string, number> = { Decimal32: 9, Decimal64: 18, Decimal128: 38, Decimal256: 76 }
const MAX_DEPTH = 16
const MAX_LENGTH = 4_096
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Where the type came from, for messages: e.g. `columns[2].type`. */
export interface TypeContext {
  field: string
}

function refuse(ctx: TypeContext, text: string, why: string): never {
  throw new ConfigError(`${ctx.field}: ${JSON.stringify(text.length > 200 ? text.slice(0, 200) + '…' : text)} is not a supported ClickHouse column type (${why}); use e.g. String, Int64, Nullable(Float64), Array(String), Decimal(10, 2), DateTime64(3, 'UTC')`, { field: ctx.field, rule: 'type' })
}

function tokenize(text: string, ctx: TypeContext): Tok[] {
  const out: Tok[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i] as string
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++
      continue
    }
    if ('(),='.includes(c)) {
      out.push({ kind: 'punct', text: c, pos: i++ })
      continue
    }
    if (c === "'") {
      let value = ''
      let j = i + 1
      for (; j < text.length; j++) {
        const d = text[j] as string
        if (d === '\\' && j + 1 < text.length) value += text[++j]
        else if (d === "'" && text[j + 1] === "'") value += text[++j]
        else if (d === "'") break
        else value += d
      }
      if (j >= text.length) refuse(ctx, text, `unterminated string at character ${i + 1}`)
      out.push({ kind: 'string', text: value, pos: i })
      i = j + 1
      continue
    }
    const num = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i))
    if (num) {
      out.push({ kind: 'number', text: num[0], pos: i })
      i += num[0].length
      continue
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))
    if (id) {
      out.push({ kind: 'ident', text: id[0], pos: i })
      i += id[0].length
      continue
    }
    // Any other character: a token no rule of the grammar accepts, so the parser names where it stopped.
    out.push({ kind: 'punct', text: c, pos: i++ })
  }
  return out
}

class TypeParser {
  #i = 0
  constructor(
    private readonly toks: Tok[],
    private readonly text: string,
    private readonly ctx: TypeContext,
  ) {}

  fail(why: string): never {
    const t = this.toks[this.#i]
    refuse(this.ctx, this.text, t ? `${why} at character ${t.pos + 1}` : `${why} at the end`)
  }
  peek(offset = 0): Tok | undefined {
    return this.toks[this.#i + offset]
  }
  punct(p: string): boolean {
    const t = this.peek()
    if (t?.kind !== 'punct' || t.text !== p) return false
    this.#i++
    return true
  }
  expect(p: string): void {
    if (!this.punct(p)) this.fail(`expected "${p}"`)
  }
  ident(): string {
    const t = this.peek()
    if (t?.kind !== 'ident') this.fail('expected a name')
    this.#i++
    return t.text
  }
  integer(min: number, max: number, what: string): string {
    const t = this.peek()
    if (t?.kind !== 'number' || !/^-?\d+$/.test(t.text) || Number(t.text) < min || Number(t.text) > max) this.fail(`${what} must be an integer from ${min} to ${max}`)
    this.#i++
    return String(Number(t.text))
  }
  string(): string {
    const t = this.peek()
    if (t?.kind !== 'string') this.fail('expected a quoted string')
    this.#i++
    return t.text
  }
  atEnd(): boolean {
    return this.#i >= this.toks.length
  }

  type(depth: number): TypeNode {
    if (depth > MAX_DEPTH) this.fail(`types nest at most ${MAX_DEPTH} deep`)
    const name = this.ident()
    if (SIMPLE.has(name)) return { name, args: [] }
    if (WRAPPERS.has(name)) {
      this.expect('(')
      return this.closed(name, [this.typeArg(depth)])
    }
    switch (name) {
      case 'FixedString':
        this.expect('(')
        return this.closed(name, [{ k: 'number', value: this.integer(1, 1_000_000, 'the length') }])
      case 'DateTime':
        if (!this.punct('(')) return { name, args: [] }
        return this.closed(name, [{ k: 'string', value: this.timezone() }])
      case 'DateTime64': {
        this.expect('(')
        const args: TypeArg[] = [{ k: 'number', value: this.integer(0, 9, 'the precision') }]
        if (this.punct(',')) args.push({ k: 'string', value: this.timezone() })
        return this.closed(name, args)
      }
      case 'Decimal': {
        this.expect('(')
        const p = this.integer(1, 76, 'the precision')
        const args: TypeArg[] = [{ k: 'number', value: p }]
        if (this.punct(',')) args.push({ k: 'number', value: this.integer(0, Number(p), 'the scale') })
        return this.closed(name, args)
      }
      case 'Decimal32':
      case 'Decimal64':
      case 'Decimal128':
      case 'Decimal256':
        this.expect('(')
        return this.closed(name, [{ k: 'number', value: this.integer(0, DECIMAL_PRECISION[name] as number, 'the scale') }])
      case 'Enum8':
      case 'Enum16':
        return this.enumType(name)
      case 'Map': {
        this.expect('(')
        const key = this.typeArg(depth)
        this.expect(',')
        return this.closed(name, [key, this.typeArg(depth)])
      }
      case 'Tuple':
        return this.tuple(depth)
      case 'Variant': {
        this.expect('(')
        const args = [this.typeArg(depth)]
        while (this.punct(',')) args.push(this.typeArg(depth))
        return this.closed(name, args)
      }
      case 'AggregateFunction':
      case 'SimpleAggregateFunction':
        return this.aggregate(name, depth)
      default:
        return this.fail(`unknown type ${name}`)
    }
  }

  private typeArg(depth: number): TypeArg {
    return { k: 'type', type: this.type(depth + 1) }
  }
  private closed(name: string, args: TypeArg[]): TypeNode {
    this.expect(')')
    return { name, args }
  }
  private timezone(): string {
    const tz = this.string()
    if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(tz)) this.fail('the time zone must be an IANA name such as UTC or Europe/Paris')
    return tz
  }
  private enumType(name: string): TypeNode {
    const [min, max] = ENUM_RANGE[name] as [number, number]
    this.expect('(')
    const args: TypeArg[] = []
    do {
      const item = this.string()
      this.expect('=')
      args.push({ k: 'enum', name: item, value: Number(this.integer(min, max, 'an enum value')) })
    } while (this.punct(','))
    return this.closed(name, args)
  }
  private tuple(depth: number): TypeNode {
    this.expect('(')
    const args: TypeArg[] = []
    do {
      const a = this.peek()
      const b = this.peek(1)
      // `name Type` (a named element) or `Type`.
      if (a?.kind === 'ident' && b?.kind === 'ident') {
        this.ident()
        args.push({ k: 'field', name: a.text, type: this.type(depth + 1) })
      } else args.push(this.typeArg(depth))
    } while (this.punct(','))
    return this.closed('Tuple', args)
  }
  private aggregate(name: string, depth: number): TypeNode {
    this.expect('(')
    const fn = this.ident()
    const params: string[] = []
    if (this.punct('(')) {
      do {
        const t = this.peek()
        if (t?.kind !== 'number') this.fail('aggregate function parameters must be numbers')
        this.#i++
        params.push(t.text)
      } while (this.punct(','))
      this.expect(')')
    }
    const args: TypeArg[] = [{ k: 'fn', name: fn, params }]
    while (this.punct(',')) args.push(this.typeArg(depth))
    if (name === 'SimpleAggregateFunction' && args.length !== 2) this.fail('SimpleAggregateFunction takes a function and one type')
    return this.closed(name, args)
  }
}

/** The type printed from its tree: names as they are, strings re-quoted by flowhouse. */
export function printType(node: TypeNode): string {
  if (node.args.length === 0) return node.name
  const args = node.args.map((a): string => {
    switch (a.k) {
      case 'type':
        return printType(a.type)
      case 'number':
        return a.value
      case 'string':
        return sqlString(a.value)
      case 'enum':
        return `${sqlString(a.name)} = ${a.value}`
      case 'field':
        return `${a.name} ${printType(a.type)}`
      case 'fn':
        return a.params.length > 0 ? `${a.name}(${a.params.join(', ')})` : a.name
    }
  })
  return `${node.name}(${args.join(', ')})`
}

/**
 * Parses a column type against the grammar above.
 * @param ctx names the field in the error, e.g. `{ field: 'columns[0].type' }`.
 * @returns the type tree.
 * @throws ConfigError (code CONFIG_INVALID, HTTP 400) naming the field when the text is not a supported type.
 */
export function parseColumnType(text: unknown, ctx: TypeContext): TypeNode {
  if (typeof text !== 'string' || text.trim() === '') refuse(ctx, String(text), 'a type name is required')
  if (text.length > MAX_LENGTH) refuse(ctx, text, `longer than ${MAX_LENGTH} characters`)
  const parser = new TypeParser(tokenize(text, ctx), text, ctx)
  const node = parser.type(0)
  if (!parser.atEnd()) parser.fail('unexpected text after the type')
  for (const name of names(node)) if (!IDENT.test(name)) refuse(ctx, text, `${JSON.stringify(name)} is not a name`)
  return node
}

function* names(node: TypeNode): Generator<string> {
  yield node.name
  for (const a of node.args) {
    if (a.k === 'type') yield* names(a.type)
    if (a.k === 'field') {
      yield a.name
      yield* names(a.type)
    }
    if (a.k === 'fn') yield a.name
  }
}

/**
 * A column type checked against the grammar and printed by flowhouse (the form that goes into DDL).
 * @throws ConfigError naming the field (see parseColumnType).
 */
export function canonicalColumnType(text: unknown, ctx: TypeContext): string {
  return printType(parseColumnType(text, ctx))
}
