/**
 * Structured logging (pino). Level from FLOWHOUSE_LOG_LEVEL (default `info`). Stages take a
 * child logger with `{ stage }`; payloads and credentials are never logged.
 *
 * Credentials are kept out of the output by three walls (util/redact.ts):
 *  1. pino's `redact` replaces the value of credential-named fields (REDACTED_PATHS) with `[Redacted]`;
 *  2. the password of any `scheme://user:password@host` URL in a line is replaced;
 *  3. every secret value registered with `registerSecret()` (the resolved Kafka SASL and ClickHouse
 *     passwords, API keys ...) is replaced wherever it appears in a line, e.g. inside an error message.
 */
import { pino, type Logger } from 'pino'
import { REDACTED, REDACTED_PATHS, redactSecrets } from './redact.ts'

export { registerSecret, redactSecrets, redactUrl } from './redact.ts'

export const log: Logger = pino({
  level: process.env.FLOWHOUSE_LOG_LEVEL || 'info',
  base: { service: 'flowhouse' },
  timestamp: pino.stdTimeFunctions.isoTime,
  redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
  hooks: { streamWrite: redactSecrets },
})

/** A child logger for one stage, e.g. `stageLog('kafka')`. */
export function stageLog(stage: string, bindings: Record<string, unknown> = {}): Logger {
  return log.child({ stage, ...bindings })
}
