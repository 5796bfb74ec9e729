/**
 * Structured logging (pino). Level from FLOWHOUSE_LOG_LEVEL (default `info`). Stages take a
 * child logger with `{ stage }`; payloads and credentials are never logged.
 *
 * Format from FLOWHOUSE_LOG_FORMAT: `pretty` (human-readable lines through pino-pretty) or
 * `json` (one JSON object per line); the default is `pretty` when stdout is a terminal and
 * `json` otherwise (files, pipes, containers).
 *
 * Credentials are kept out of the output by three walls (util/redact.ts):
 *  1. pino's `redact` replaces the value of credential-named fields (REDACTED_PATHS) with `[Redacted]`;
 *  2. the password of any `scheme://user:password@host` URL in a line is replaced;
 *  3. every secret value registered with `registerSecret()` (the resolved Kafka SASL and ClickHouse
 *     passwords, API keys ...) is replaced wherever it appears in a line, e.g. inside an error message.
 * The walls apply to the JSON line before it is written, so pretty output is redacted as well.
 *
 * An error is logged as `{ err }`: the line gets `error` (its message) and, for
 * a FlowhouseError (errors.ts), its `code`, `retriable` and `context`.
 */
import { pino, type DestinationStream, type Logger } from 'pino'
import pretty from 'pino-pretty'
import { FlowhouseError, messageOf } from '../errors.ts'
import { setting } from './environment.ts'
import { REDACTED, REDACTED_PATHS, redactSecrets } from './redact.ts'

export { redactSecrets } from './redact.ts'

/**
 * True when log lines should be human-readable (FLOWHOUSE_LOG_FORMAT, else whether stdout is a terminal).
 * @param env the environment. @default process.env
 * @throws ConfigError when FLOWHOUSE_LOG_FORMAT is neither pretty nor json (util/environment.ts).
 */
export function prettyLogs(env?: NodeJS.ProcessEnv, tty = Boolean(process.stdout.isTTY)): boolean {
  const format = setting('FLOWHOUSE_LOG_FORMAT', env)
  return format === 'pretty' || (format !== 'json' && tty)
}

const destination: DestinationStream | undefined = prettyLogs() ? pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', singleLine: true }) : undefined

/**
 * The fields of a log object holding an error under `err` (module doc); other objects as they are.
 * Never throws.
 */
export function errorFields(fields: Record<string, unknown>): Record<string, unknown> {
  if (!('err' in fields)) return fields
  const { err, ...rest } = fields
  if (!(err instanceof FlowhouseError)) return { ...rest, error: messageOf(err) }
  const context = Object.keys(err.context).length > 0 ? { context: err.context } : {}
  return { ...rest, error: messageOf(err), code: err.code, retriable: err.retriable, ...context }
}

export const log: Logger = pino(
  {
    level: setting('FLOWHOUSE_LOG_LEVEL'),
    base: { service: 'flowhouse' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
    formatters: { log: errorFields },
    hooks: { streamWrite: redactSecrets },
  },
  ...(destination ? [destination] : []),
)

/** A child logger for one stage, e.g. `stageLog('kafka')`. */
export function stageLog(stage: string, bindings: Record<string, unknown> = {}): Logger {
  return log.child({ stage, ...bindings })
}
