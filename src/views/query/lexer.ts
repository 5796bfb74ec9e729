/**
 * Tokens of the view query language: the expression subset of ClickHouse SQL that the query
 * helper accepts in `select`, `filter`, `group_by`, `having` and `order_by`. Anything outside it
 * — `;`, comments, quoted identifiers, `{parameters}`, `?`, backslashes outside strings — is
 * refused here with QueryError, before any text reaches ClickHouse.
 */
import { QueryError } from '../../errors.ts'

export type TokenKind = 'ident' | 'number' | 'string' | 'op' | 'end'

export interface Token {
  kind: TokenKind
  /** Identifier or operator text; a string's unescaped value; a number's text. */
  value: string
  /** Offset in the input. */
  pos: number
}

const OPERATORS = ['>=', '<=', '!=', '<>', '==', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', '.']

/** Context for messages: which part of the request is being read. */
export interface LexContext {
  view: string
  part: string
}

/** A QueryError `view "<view>": <part>: <message> (at character <n>)`, with view, part and position as context. */
export function queryError(ctx: LexContext, message: string, pos?: number): QueryError {
  const where = pos === undefined ? '' : ` (at character ${pos + 1})`
  return new QueryError(`view "${ctx.view}": ${ctx.part}: ${message}${where}`, { view: ctx.view, part: ctx.part, ...(pos === undefined ? {} : { position: pos }) })
}

function readString(text: string, start: number, ctx: LexContext): { value: string; end: number } {
  let value = ''
  let i = start + 1
  while (i < text.length) {
    const c = text[i] as string
    if (c === '\\') {
      const next = text[i + 1]
      if (next === undefined) break
      const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', f: '\f' }
      value += map[next] ?? next
      i += 2
    } else if (c === "'" && text[i + 1] === "'") {
      value += "'"
      i += 2
    } else if (c === "'") {
      return { value, end: i + 1 }
    } else {
      value += c
      i++
    }
  }
  throw queryError(ctx, 'unterminated string literal', start)
}

/**
 * Splits the text into tokens.
 * @throws QueryError for characters and constructs outside the language (with their position).
 */
export function tokenize(text: string, ctx: LexContext): Token[] {
  if (typeof text !== 'string') throw queryError(ctx, `must be a string (got ${typeof text})`)
  if (text.length > 4_000) throw queryError(ctx, 'is longer than 4000 characters')
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i] as string
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (c === ';') throw queryError(ctx, "';' is not allowed: send one expression, not statements", i)
    if ((c === '-' && text[i + 1] === '-') || (c === '/' && text[i + 1] === '*') || c === '#') throw queryError(ctx, 'comments are not allowed', i)
    if (c === '`' || c === '"') throw queryError(ctx, 'quoted identifiers are not allowed: use the plain column names of the view', i)
    if (c === '{' || c === '}' || c === '?' || c === '$' || c === '\\' || c === '[' || c === ']' || c === ':' || c === '|' || c === '&' || c === '@') {
      throw queryError(ctx, `character ${JSON.stringify(c)} is not allowed`, i)
    }
    if (c === "'") {
      const { value, end } = readString(text, i, ctx)
      tokens.push({ kind: 'string', value, pos: i })
      i = end
      continue
    }
    const number = /^(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/.exec(text.slice(i))
    if (number) {
      const after = text[i + number[0].length]
      if (after !== undefined && /[A-Za-z_]/.test(after)) throw queryError(ctx, `malformed number ${JSON.stringify(text.slice(i, i + number[0].length + 1))}`, i)
      tokens.push({ kind: 'number', value: number[0], pos: i })
      i += number[0].length
      continue
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))
    if (ident) {
      tokens.push({ kind: 'ident', value: ident[0], pos: i })
      i += ident[0].length
      continue
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i))
    if (op) {
      tokens.push({ kind: 'op', value: op, pos: i })
      i += op.length
      continue
    }
    throw queryError(ctx, `unexpected character ${JSON.stringify(c)}`, i)
  }
  tokens.push({ kind: 'end', value: '', pos: text.length })
  return tokens
}
