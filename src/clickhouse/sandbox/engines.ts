/**
 * The in-process engines the sandbox parses with: a session of the embedded engine (embedded
 * mode), or chDB's process-wide default connection (server mode, where no data folder is open;
 * `EXPLAIN AST` and `system.functions` need no data). Parameters are bound into the text for
 * the parse only (a `{name:Type}` stands where its literal, or its quoted identifier, will be).
 */
import { bindParamsInline } from '../sqltext.ts'
import type { ParseEngine } from './sandbox.ts'

function bound(sql: string, params: Record<string, unknown> | undefined): string {
  return params && Object.keys(params).length > 0 ? bindParamsInline(sql, params) : sql
}

/** Parses on a session of the embedded engine (a read-only session of its own). */
export function sessionParser(session: { text(sql: string): Promise<string>; close(): Promise<void> }): ParseEngine {
  return { text: (sql, params) => session.text(bound(sql, params)), close: () => session.close() }
}

/** Parses on chDB's default in-memory connection, loaded on first use. */
export function defaultConnectionParser(): ParseEngine {
  return {
    async text(sql, params) {
      const chdb = (await import('chdb')) as unknown as { queryAsync(sql: string, opts: { format: string }): Promise<{ text(): string }> }
      return (await chdb.queryAsync(bound(sql, params), { format: 'TabSeparatedRaw' })).text()
    },
    close: async () => undefined,
  }
}
