/**
 * Turns whatever @clickhouse/client or the embedded chdb engine throws into a
 * `ClickHouseError { chCode, type, retriable }` (src/errors.ts).
 *
 * Sources of a code, in order: clickhouse-js's `ClickHouseError` (`code` / `type`, parsed by
 * its `parseError` from `Code: N. DB::Exception: ... (TYPE)`), chdb's `clickhouseCode`, and
 * the message text itself — both the current format `Code: 252. DB::Exception: ... (TOO_MANY_PARTS)`
 * and the 18.x format `Code: 60, e.displayText() = DB::Exception: ..., e.what() = DB::Exception`,
 * which carries no type name (we map the number with CODE_NAMES).
 *
 * Retry rules: the codes of clickhouse-kafka-connect's `Utils.handleException` list plus a few
 * of the same nature (ZooKeeper, quota, connection limits), Node socket errors and client
 * timeouts. Data errors (parse, type), schema and syntax errors, authentication, aborts and
 * programmer errors (TypeError ...) are never retriable.
 */
import { ClickHouseError, isProgrammerError, messageOf, type ErrorContext } from '../errors.ts'

/** Names of the ClickHouse error codes flowhouse reasons about (ClickHouse src/Common/ErrorCodes.cpp). */
export const CODE_NAMES: Readonly<Record<number, string>> = {
  3: 'UNEXPECTED_END_OF_FILE',
  6: 'CANNOT_PARSE_TEXT',
  8: 'THERE_IS_NO_COLUMN',
  10: 'NOT_FOUND_COLUMN_IN_BLOCK',
  16: 'NO_SUCH_COLUMN_IN_TABLE',
  20: 'NUMBER_OF_COLUMNS_DOESNT_MATCH',
  26: 'CANNOT_PARSE_QUOTED_STRING',
  27: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
  32: 'ATTEMPT_TO_READ_AFTER_EOF',
  36: 'BAD_ARGUMENTS',
  38: 'CANNOT_PARSE_DATE',
  41: 'CANNOT_PARSE_DATETIME',
  43: 'ILLEGAL_TYPE_OF_ARGUMENT',
  44: 'ILLEGAL_COLUMN',
  46: 'UNKNOWN_FUNCTION',
  47: 'UNKNOWN_IDENTIFIER',
  48: 'NOT_IMPLEMENTED',
  49: 'LOGICAL_ERROR',
  53: 'TYPE_MISMATCH',
  57: 'TABLE_ALREADY_EXISTS',
  60: 'UNKNOWN_TABLE',
  62: 'SYNTAX_ERROR',
  69: 'ARGUMENT_OUT_OF_BOUND',
  70: 'CANNOT_CONVERT_TYPE',
  72: 'CANNOT_PARSE_NUMBER',
  76: 'CANNOT_OPEN_FILE',
  81: 'UNKNOWN_DATABASE',
  107: 'FILE_DOESNT_EXIST',
  115: 'UNKNOWN_SETTING',
  117: 'INCORRECT_DATA',
  128: 'TOO_LARGE_ARRAY_SIZE',
  131: 'TOO_LARGE_STRING_SIZE',
  159: 'TIMEOUT_EXCEEDED',
  160: 'TOO_SLOW',
  164: 'READONLY',
  173: 'CANNOT_ALLOCATE_MEMORY',
  190: 'SIZES_OF_ARRAYS_DONT_MATCH',
  192: 'UNKNOWN_USER',
  194: 'REQUIRED_PASSWORD',
  201: 'QUOTA_EXCEEDED',
  202: 'TOO_MANY_SIMULTANEOUS_QUERIES',
  203: 'NO_FREE_CONNECTION',
  209: 'SOCKET_TIMEOUT',
  210: 'NETWORK_ERROR',
  225: 'NO_ZOOKEEPER',
  236: 'ABORTED',
  241: 'MEMORY_LIMIT_EXCEEDED',
  242: 'TABLE_IS_READ_ONLY',
  244: 'UNEXPECTED_ZOOKEEPER_ERROR',
  252: 'TOO_MANY_PARTS',
  254: 'NO_ACTIVE_REPLICAS',
  279: 'ALL_CONNECTION_TRIES_FAILED',
  285: 'TOO_FEW_LIVE_REPLICAS',
  319: 'UNKNOWN_STATUS_OF_INSERT',
  349: 'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN',
  394: 'QUERY_WAS_CANCELLED',
  425: 'SYSTEM_ERROR',
  439: 'CANNOT_SCHEDULE_TASK',
  497: 'ACCESS_DENIED',
  516: 'AUTHENTICATION_FAILED',
  749: 'TCP_CONNECTION_LIMIT_REACHED',
  762: 'HTTP_CONNECTION_LIMIT_REACHED',
  999: 'KEEPER_EXCEPTION',
  1000: 'POCO_EXCEPTION',
  1002: 'UNKNOWN_EXCEPTION',
}

/**
 * ClickHouse codes worth retrying: the server is busy, out of resources, restarting or
 * unreachable, and the same request can succeed later. clickhouse-kafka-connect retries
 * 3, 107, 159, 164, 202, 203, 209, 210, 241, 242, 252, 285, 319, 425, 999; flowhouse adds
 * 201 (quota window), 225 / 244 (ZooKeeper), 236 (ABORTED), 254, 279, 439, 749, 762.
 */
export const RETRIABLE_CODES: ReadonlySet<number> = new Set([
  3, 107, 159, 164, 201, 202, 203, 209, 210, 225, 236, 241, 242, 244, 252, 254, 279, 285, 319, 425, 439, 749, 762, 999,
])

/**
 * ClickHouse codes caused by the data of some row while the input is parsed: the rows are not
 * retried but split to find the ones at fault (delivery/sink.ts), which are dead-lettered at
 * stage `insert`. Names from ClickHouse's src/Common/ErrorCodes.cpp. Batches stay below
 * max_insert_block_size, so such an error comes before anything is written. A throwIf (395,
 * FUNCTION_THROW_IF_VALUE_IS_NON_ZERO) fails in a materialized view after the source rows were
 * written: splitting would write them again under new tokens, so it is not listed and stops the
 * partition like other non-retriable errors (unknown table, syntax), which are not the rows' fault.
 */
export const ROW_ERROR_CODES: ReadonlySet<number> = new Set([
  6, // CANNOT_PARSE_TEXT
  16, // NO_SUCH_COLUMN_IN_TABLE
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE (e.g. a lone UTF-16 surrogate \ud800 in a string)
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  32, // ATTEMPT_TO_READ_AFTER_EOF
  33, // CANNOT_READ_ALL_DATA
  36, // BAD_ARGUMENTS
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
  349, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
  691, // UNKNOWN_ELEMENT_OF_ENUM
])

/** Node / undici socket error codes that mean "the connection failed; try again". */
const RETRIABLE_SOCKET_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'CHDB_TIMEOUT',
])

/** Messages of transport failures that carry no code (clickhouse-js: "Timeout error."). */
const RETRIABLE_MESSAGE = /socket hang up|ECONNRESET|ECONNREFUSED|\bTimeout error\b|timed out|network (?:error|is unreachable)/i

/** Current format: `Code: 252. DB::Exception: <message> (TOO_MANY_PARTS) (version ...)`. */
const CODE_RE = /Code:\s*(\d+)[.,]/
/** 18.x format: `Code: 60, e.displayText() = DB::Exception: <message>, e.what() = DB::Exception`. */
const LEGACY_MESSAGE_RE = /e\.displayText\(\) = (?:DB::Exception: )?([\s\S]*?)(?:, e\.what\(\) = [\w:]+)?\s*$/
const MODERN_MESSAGE_RE = /DB::Exception:\s*([\s\S]*)$/
/** `(TYPE)` markers: upper case with at least three consecutive letters (clickhouse-js rule). */
const TYPE_RE = /\(((?=[A-Z0-9_]*[A-Z]{3})[A-Z0-9_]+)\)/g

/** What a ClickHouse error text says. */
export interface ParsedErrorText {
  /** Numeric ClickHouse code, e.g. 252. */
  chCode: number
  /** Code name, e.g. `TOO_MANY_PARTS`; from the text, else from CODE_NAMES. */
  type: string | undefined
  /** The exception message without the `Code:` prefix, the type and the version suffix. */
  message: string
}

/**
 * Parses ClickHouse exception text in the current or the 18.x format.
 * @returns undefined when the text carries no `Code: N`.
 */
export function parseErrorText(text: string): ParsedErrorText | undefined {
  const code = CODE_RE.exec(text)
  if (!code) return undefined
  const chCode = Number(code[1])
  const legacy = LEGACY_MESSAGE_RE.exec(text)
  let message = (legacy?.[1] ?? MODERN_MESSAGE_RE.exec(text)?.[1] ?? text).trim()
  let type: string | undefined
  for (const m of message.matchAll(TYPE_RE)) {
    if (m[1] === CODE_NAMES[chCode] || type === undefined) type = m[1]
  }
  if (type !== undefined) {
    // Cut the message at its `(TYPE)` marker; what follows is `(version ...)` or a repetition.
    const at = message.indexOf(`(${type})`)
    if (at > 0) message = message.slice(0, at).trim()
  }
  return { chCode, type: type ?? CODE_NAMES[chCode], message: message.replace(/\s+$/, '') }
}

/** Fields some error in a cause chain may carry. */
interface ErrorLike {
  name?: unknown
  code?: unknown
  type?: unknown
  clickhouseCode?: unknown
  message?: unknown
  cause?: unknown
}

function chain(error: unknown): ErrorLike[] {
  const out: ErrorLike[] = []
  let current: unknown = error
  while (current !== null && typeof current === 'object' && out.length < 6) {
    out.push(current as ErrorLike)
    current = (current as ErrorLike).cause
  }
  return out
}

function codeFrom(e: ErrorLike): { chCode: number; type: string | undefined } | undefined {
  if (typeof e.clickhouseCode === 'number') return { chCode: e.clickhouseCode, type: CODE_NAMES[e.clickhouseCode] }
  // clickhouse-js ClickHouseError: code is the numeric code as a string, type the name.
  if (typeof e.code === 'string' && /^\d+$/.test(e.code) && typeof e.type === 'string') {
    return { chCode: Number(e.code), type: e.type }
  }
  return undefined
}

function isAbort(e: ErrorLike): boolean {
  return e.name === 'AbortError' || e.code === 'ABORT_ERR' || e.code === 'CHDB_ABORT'
}

/**
 * Whether retrying the same request can succeed: retriable ClickHouse codes, socket errors,
 * client timeouts. Programmer errors, aborts and anything else are not retriable.
 */
export function isRetriableError(error: unknown): boolean {
  if (error instanceof ClickHouseError) return error.retriable
  if (isProgrammerError(error)) return false
  const links = chain(error)
  if (links.some(isAbort)) return false
  for (const e of links) {
    const parsed = codeFrom(e) ?? (typeof e.message === 'string' ? parseErrorText(e.message) : undefined)
    if (parsed) return RETRIABLE_CODES.has(parsed.chCode)
  }
  for (const e of links) {
    if (typeof e.code === 'string' && RETRIABLE_SOCKET_CODES.has(e.code)) return true
    if (typeof e.message === 'string' && RETRIABLE_MESSAGE.test(e.message)) return true
  }
  return false
}

/**
 * Wraps anything thrown by @clickhouse/client or chdb into a ClickHouseError with `chCode`,
 * `type`, `retriable` (isRetriableError), the original as `cause`, and `context` (table ...).
 * A ClickHouseError passes through (context merged). Programmer errors are wrapped too, with
 * `retriable: false`; callers that want them raw check `isProgrammerError` first.
 */
export function toClickHouseError(error: unknown, context: ErrorContext = {}): ClickHouseError {
  if (error instanceof ClickHouseError) {
    Object.assign(error.context, { ...context, ...error.context })
    return error
  }
  let found: { chCode: number; type: string | undefined; message?: string } | undefined
  for (const e of chain(error)) {
    const text = typeof e.message === 'string' ? e.message : ''
    const byFields = codeFrom(e)
    const byText = parseErrorText(text)
    if (byFields) found = { ...byFields, type: byFields.type ?? byText?.type, message: byText?.message ?? text }
    else if (byText) found = byText
    if (found) break
  }
  const retriable = isRetriableError(error)
  const raw = found?.message || messageOf(error)
  const message = found ? `ClickHouse error ${found.chCode}${found.type ? ` (${found.type})` : ''}: ${raw}` : `ClickHouse request failed: ${raw}`
  return new ClickHouseError(message, {
    ...(found ? { chCode: found.chCode } : {}),
    ...(found?.type ? { type: found.type } : {}),
    retriable,
    cause: error,
    context,
  })
}
