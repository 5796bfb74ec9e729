/**
 * Parser of the view query language against an allowlist: identifiers must be columns of the
 * view (or aliases defined in `select`), functions must be in FUNCTIONS (language.ts), operators
 * are the comparison, arithmetic and logical ones. The result is an expression tree (Expr,
 * language.ts) that builder.ts turns back into SQL with every literal as a bound parameter — the
 * user's text itself never reaches ClickHouse.
 */
import { FORBIDDEN, FUNCTIONS, INTERVAL_UNITS, type Expr } from './language.ts'
import { queryError, tokenize, type LexContext, type Token } from './lexer.ts'

/** What identifiers and functions a part of the request may use. */
export interface Scope extends LexContext {
  /** Column names of the view, and aliases from `select` where allowed. */
  names: ReadonlySet<string>
  /** Aggregate functions are allowed (select, having, order_by — not filter or group_by). */
  aggregates: boolean
}

const MAX_DEPTH = 64

class Parser {
  private i = 0
  private depth = 0
  constructor(
    private readonly tokens: Token[],
    private scope: Scope,
  ) {}

  private get t(): Token {
    return this.tokens[this.i] as Token
  }

  private fail(message: string, token: Token = this.t): never {
    throw queryError(this.scope, message, token.pos)
  }

  private isWord(word: string, token: Token = this.t): boolean {
    return token.kind === 'ident' && token.value.toUpperCase() === word
  }

  private acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false
    this.i++
    return true
  }

  private isOp(op: string): boolean {
    return this.t.kind === 'op' && this.t.value === op
  }

  private acceptOp(op: string): boolean {
    if (!this.isOp(op)) return false
    this.i++
    return true
  }

  private expectOp(op: string): void {
    if (!this.acceptOp(op)) this.fail(`expected "${op}" but found ${this.describe()}`)
  }

  private describe(token: Token = this.t): string {
    return token.kind === 'end' ? 'the end of the text' : token.kind === 'string' ? 'a string' : `"${token.value}"`
  }

  /** All tokens consumed. */
  atEnd(): boolean {
    return this.t.kind === 'end'
  }

  /** @throws QueryError unless all tokens were consumed. */
  expectEnd(): void {
    if (!this.atEnd()) this.fail(`unexpected ${this.describe()}`)
  }

  /** The next token is this keyword (case-insensitive). */
  peekWord(word: string): boolean {
    return this.isWord(word)
  }

  /** Consumes the keyword if it is next. */
  takeWord(word: string): boolean {
    return this.acceptWord(word)
  }

  /** Consumes the operator if it is next. */
  takeOp(op: string): boolean {
    return this.acceptOp(op)
  }

  /** An identifier usable as an alias. */
  alias(): string {
    const t = this.t
    if (t.kind !== 'ident' || FORBIDDEN.has(t.value.toUpperCase())) this.fail(`expected an alias name but found ${this.describe()}`)
    this.i++
    return t.value
  }

  /** Runs `parse` one nesting level deeper; every nesting (parentheses, calls, NOT, unary minus, INTERVAL) counts. */
  private nested<T>(parse: () => T): T {
    if (++this.depth > MAX_DEPTH) this.fail(`the expression is nested too deeply (more than ${MAX_DEPTH} levels)`)
    try {
      return parse()
    } finally {
      this.depth--
    }
  }

  /** One expression (OR of ANDs of comparisons ...). @throws QueryError. */
  expr(): Expr {
    return this.nested(() => this.or())
  }

  private or(): Expr {
    let l = this.and()
    while (this.acceptWord('OR')) l = { k: 'bin', op: 'OR', l, r: this.and() }
    return l
  }

  private and(): Expr {
    let l = this.not()
    while (this.acceptWord('AND')) l = { k: 'bin', op: 'AND', l, r: this.not() }
    return l
  }

  private not(): Expr {
    if (this.acceptWord('NOT')) return { k: 'not', e: this.nested(() => this.not()) }
    return this.comparison()
  }

  private comparison(): Expr {
    const l = this.additive()
    const t = this.t
    if (t.kind === 'op' && ['=', '==', '!=', '<>', '<', '<=', '>', '>='].includes(t.value)) {
      this.i++
      const op = t.value === '==' ? '=' : t.value === '<>' ? '!=' : t.value
      return { k: 'bin', op, l, r: this.additive() }
    }
    if (this.acceptWord('IS')) {
      const neg = this.acceptWord('NOT')
      if (!this.acceptWord('NULL')) this.fail(`expected NULL after IS${neg ? ' NOT' : ''}`)
      return { k: 'isnull', e: l, neg }
    }
    const neg = this.isWord('NOT') && ['IN', 'BETWEEN', 'LIKE', 'ILIKE'].some((w) => this.isWord(w, this.tokens[this.i + 1] as Token))
    if (neg) this.i++
    if (this.acceptWord('IN')) {
      this.expectOp('(')
      if (this.isWord('SELECT')) this.fail('subqueries are not allowed')
      const list = [this.additive()]
      while (this.acceptOp(',')) list.push(this.additive())
      this.expectOp(')')
      return { k: 'in', e: l, list, neg }
    }
    if (this.acceptWord('BETWEEN')) {
      const lo = this.additive()
      if (!this.acceptWord('AND')) this.fail('expected AND in BETWEEN ... AND ...')
      return { k: 'between', e: l, lo, hi: this.additive(), neg }
    }
    if (this.isWord('LIKE') || this.isWord('ILIKE')) {
      const ci = this.isWord('ILIKE')
      this.i++
      return { k: 'like', e: l, pattern: this.additive(), neg, ci }
    }
    if (neg) this.fail('expected IN, BETWEEN, LIKE or ILIKE after NOT')
    return l
  }

  private additive(): Expr {
    let l = this.multiplicative()
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.t.value
      this.i++
      l = { k: 'bin', op, l, r: this.multiplicative() }
    }
    return l
  }

  private multiplicative(): Expr {
    let l = this.unary()
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.t.value
      this.i++
      l = { k: 'bin', op, l, r: this.unary() }
    }
    return l
  }

  private unary(): Expr {
    if (this.acceptOp('-')) {
      const e = this.nested(() => this.unary())
      if (e.k === 'lit' && e.type !== 'String') return { ...e, value: e.value.startsWith('-') ? e.value.slice(1) : `-${e.value}`, type: e.type === 'UInt64' ? 'Float64' : e.type }
      return { k: 'neg', e }
    }
    return this.primary()
  }

  private primary(): Expr {
    const t = this.t
    if (t.kind === 'number') {
      this.i++
      return numberLiteral(t.value)
    }
    if (t.kind === 'string') {
      this.i++
      return { k: 'lit', value: t.value, type: 'String' }
    }
    if (this.acceptOp('(')) {
      if (this.isWord('SELECT')) this.fail('subqueries are not allowed')
      const e = this.expr()
      this.expectOp(')')
      return e
    }
    if (t.kind !== 'ident') this.fail(`unexpected ${this.describe()}`)
    const upper = t.value.toUpperCase()
    if (upper === 'NULL' || upper === 'TRUE' || upper === 'FALSE') {
      this.i++
      return { k: 'const', text: upper === 'NULL' ? 'NULL' : upper === 'TRUE' ? 'true' : 'false' }
    }
    if (upper === 'INTERVAL') {
      this.i++
      const e = this.nested(() => this.unary())
      const unit = this.t
      if (unit.kind !== 'ident' || !INTERVAL_UNITS.has(unit.value.toUpperCase())) this.fail(`expected an interval unit (${[...INTERVAL_UNITS].join(', ')})`)
      this.i++
      return { k: 'interval', e, unit: unit.value.toUpperCase() }
    }
    this.i++
    if (this.isOp('(')) return this.call(t)
    if (FORBIDDEN.has(upper) && !this.scope.names.has(t.value)) this.fail(`SQL keyword ${upper} is not allowed here`, t)
    if (!this.scope.names.has(t.value)) {
      this.fail(`unknown column "${t.value}"; the view's columns${this.scope.aggregates ? ' and select aliases' : ''} are ${[...this.scope.names].map((n) => `"${n}"`).join(', ')}`, t)
    }
    return { k: 'col', name: t.value }
  }

  private call(name: Token): Expr {
    const spec = FUNCTIONS.get(name.value.toLowerCase())
    if (!spec) this.fail(`function ${name.value}() is not allowed`, name)
    if (spec.aggregate && !this.scope.aggregates) this.fail(`aggregate function ${spec.name}() is not allowed in ${this.scope.part}`, name)
    this.expectOp('(')
    if (spec.name === 'count' && this.acceptOp('*')) {
      this.expectOp(')')
      return { k: 'fn', name: spec.name, args: [], star: true }
    }
    const args: Expr[] = []
    if (!this.acceptOp(')')) {
      const saved = this.scope
      // Arguments of an aggregate may not aggregate again.
      if (spec.aggregate) this.scope = { ...saved, aggregates: false }
      try {
        args.push(this.expr())
        while (this.acceptOp(',')) args.push(this.expr())
      } finally {
        this.scope = saved
      }
      this.expectOp(')')
    }
    if (args.length > 8) this.fail(`${spec.name}() takes at most 8 arguments`, name)
    return { k: 'fn', name: spec.name, args, star: false }
  }
}

const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n

function numberLiteral(text: string): Expr {
  if (/^\d+$/.test(text)) {
    const n = BigInt(text)
    if (n <= INT64_MAX) return { k: 'lit', value: text, type: 'Int64' }
    if (n <= UINT64_MAX) return { k: 'lit', value: text, type: 'UInt64' }
  }
  return { k: 'lit', value: text, type: 'Float64' }
}

/**
 * Parses one expression (a `filter` or `having`).
 * @throws QueryError for anything outside the language or the allowlist.
 */
export function parseExpression(text: string, scope: Scope): Expr {
  const p = new Parser(tokenize(text, scope), scope)
  if (p.atEnd()) throw queryError(scope, 'is empty')
  const e = p.expr()
  p.expectEnd()
  return e
}

/** One `select` item. */
export interface SelectItem {
  expr: Expr | '*'
  alias?: string
}

/**
 * Parses comma-separated `select` items: `*`, or `expr [AS alias]`.
 * @throws QueryError.
 */
export function parseSelectItems(text: string, scope: Scope): SelectItem[] {
  const p = new Parser(tokenize(text, scope), scope)
  const items: SelectItem[] = []
  do {
    if (p.takeOp('*')) {
      items.push({ expr: '*' })
      continue
    }
    const expr = p.expr()
    const item: SelectItem = { expr }
    if (p.takeWord('AS')) item.alias = p.alias()
    items.push(item)
  } while (p.takeOp(','))
  p.expectEnd()
  return items
}

/** One `order_by` item. */
export interface OrderItem {
  expr: Expr
  desc: boolean
  nulls?: 'FIRST' | 'LAST'
}

/**
 * Parses comma-separated `order_by` items: `expr [ASC|DESC] [NULLS FIRST|LAST]`.
 * @throws QueryError.
 */
export function parseOrderItems(text: string, scope: Scope): OrderItem[] {
  const p = new Parser(tokenize(text, scope), scope)
  const items: OrderItem[] = []
  do {
    const expr = p.expr()
    let desc = false
    if (p.takeWord('DESC')) desc = true
    else p.takeWord('ASC')
    const item: OrderItem = { expr, desc }
    if (p.takeWord('NULLS')) {
      if (p.takeWord('FIRST')) item.nulls = 'FIRST'
      else if (p.takeWord('LAST')) item.nulls = 'LAST'
      else throw queryError(scope, 'expected FIRST or LAST after NULLS')
    }
    items.push(item)
  } while (p.takeOp(','))
  p.expectEnd()
  return items
}

/**
 * Parses comma-separated expressions (`group_by`). @throws QueryError.
 */
export function parseExpressionList(text: string, scope: Scope): Expr[] {
  const p = new Parser(tokenize(text, scope), scope)
  const items: Expr[] = []
  do items.push(p.expr())
  while (p.takeOp(','))
  p.expectEnd()
  return items
}
