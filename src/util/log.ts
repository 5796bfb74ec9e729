/**
 * Structured logging (pino). Level from FLOWHOUSE_LOG_LEVEL (default `info`). Stages take a
 * child logger with `{ stage }`; payloads and credentials are never logged.
 */
import { pino, type Logger } from 'pino'

export const log: Logger = pino({
  level: process.env.FLOWHOUSE_LOG_LEVEL || 'info',
  base: { service: 'flowhouse' },
  timestamp: pino.stdTimeFunctions.isoTime,
})

/** A child logger for one stage, e.g. `stageLog('kafka')`. */
export function stageLog(stage: string, bindings: Record<string, unknown> = {}): Logger {
  return log.child({ stage, ...bindings })
}
