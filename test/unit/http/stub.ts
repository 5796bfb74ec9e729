/**
 * A Fastify app built by buildServer with stubbed dependencies (no broker, no ClickHouse):
 * for unit tests of access control, schemas and the error mapping through `app.inject`.
 */
import type { FastifyInstance } from 'fastify'
import type { AccessOptions } from '../../../src/config.ts'
import { hashApiKey } from '../../../src/http/auth.ts'
import { buildServer } from '../../../src/http/server.ts'

export const KEYS = { ingest: 'fh_ingest-key', read: 'fh_read-key', admin: 'fh_admin-key' } as const

export function access(overrides: Partial<AccessOptions> = {}): AccessOptions {
  return {
    apiKeys: Object.entries(KEYS).map(([scope, key]) => ({ scope: scope as 'ingest', sha256: Buffer.from(hashApiKey(key), 'hex') })),
    metricsAuth: 'none',
    allowedHosts: [],
    ...overrides,
  }
}

/** The app with stubs; `calls` records what reached the stubbed stages. */
export function stubServer(options: { access?: AccessOptions; sql?: (q: string) => Promise<unknown[]> } = {}): { app: FastifyInstance; calls: string[] } {
  const calls: string[] = []
  const ch = {
    mode: 'embedded',
    readonlyClient: {
      query: async ({ query }: { query: string }) => {
        calls.push(`sql:${query}`)
        const rows = options.sql ? await options.sql(query) : [{ one: 1 }]
        return { json: async () => rows }
      },
    },
  }
  const app = buildServer({
    ch: ch as never,
    producer: { sendRecords: async (topic: string, values: string[]) => void calls.push(`produce:${topic}:${values.length}`) } as never,
    recordsPerMessage: 1000,
    ingestMaxBytes: 1024 * 1024,
    pipeline: (name) => (name === 'events' ? ({ name, ingestApi: true, schema: { type: 'object' }, stream: { name: 'events' } } as never) : undefined),
    ready: async () => ({ kafka: { ok: true } }),
    describe: () => ({ pipelines: [], modules: [] }),
    ...(options.access ? { access: options.access } : {}),
  })
  return { app, calls }
}
