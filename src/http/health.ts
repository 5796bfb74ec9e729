/**
 * `GET /health`: liveness. Answers 200 while the event loop is responsive; 503 when the event
 * loop's p99 delay over the last 10 to 20 seconds exceeds `maxEventLoopDelayMs`
 * (FLOWHOUSE_HEALTH_MAX_EVENT_LOOP_DELAY_MS). A loop that is blocked outright does not answer
 * at all, which a probe's timeout turns into a failure.
 *
 * Body: `{ status: 'ok' | 'unresponsive', uptimeSeconds, eventLoopDelayMs: { p50Ms, p99Ms, maxMs, samples }, maxEventLoopDelayMs }`.
 */
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { EventLoopMonitor } from '../health/event-loop.ts'
import { errorResponses, Open } from './schemas.ts'

const HealthBody = Open({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unresponsive')]),
  uptimeSeconds: Type.Number(),
  eventLoopDelayMs: Open({ p50Ms: Type.Number(), p99Ms: Type.Number(), maxMs: Type.Number(), samples: Type.Number() }),
  maxEventLoopDelayMs: Type.Number(),
})

export interface HealthOptions {
  /** Event-loop delay monitor (started by the caller). */
  monitor: EventLoopMonitor
  /** p99 event-loop delay above which /health answers 503, in milliseconds. */
  maxEventLoopDelayMs: number
}

/** Registers `GET /health`. Without options, a monitor is started here with a 5 s limit. */
export function registerHealth(app: FastifyInstance, options?: HealthOptions): void {
  const started = Date.now()
  const { monitor, maxEventLoopDelayMs } = options ?? { monitor: new EventLoopMonitor().start(), maxEventLoopDelayMs: 5_000 }
  const schema = { summary: 'liveness', security: [], response: { ...errorResponses('open'), 200: HealthBody, 503: HealthBody } }
  app.get('/health', { config: { scope: 'open' }, schema }, async (_req, reply) => {
    const delay = monitor.delay()
    const responsive = delay.p99Ms <= maxEventLoopDelayMs
    return reply.code(responsive ? 200 : 503).send({
      status: responsive ? 'ok' : 'unresponsive',
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      eventLoopDelayMs: delay,
      maxEventLoopDelayMs,
    })
  })
}
