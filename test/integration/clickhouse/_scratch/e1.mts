import { createClient } from '@clickhouse/client'
import * as conn from 'chdb/connection'
import { mkdtempSync } from 'node:fs'
console.log(Object.keys(conn))
const dir = mkdtempSync('/tmp/chx/d-')
const client = createClient({ connection: (conn as any).createChdbConnection({ path: dir }) })
const q = async (sql: string, settings?: any) => { try { const r = await client.query({ query: sql, format: 'JSONEachRow', clickhouse_settings: settings }); return await r.json() } catch (e: any) { return 'ERR ' + e.constructor.name + ' code=' + e.code + ' type=' + e.type + ' ' + e.message.slice(0, 200) } }
const c = async (sql: string, settings?: any) => { try { await client.command({ query: sql, clickhouse_settings: settings }); return 'ok' } catch (e: any) { return 'ERR ' + e.constructor.name + ' code=' + e.code + ' type=' + e.type + ' ' + e.message.slice(0, 200) } }
console.log(await q('SELECT version() AS v'))
console.log(await q("SELECT name, value FROM system.settings WHERE name IN ('insert_deduplication_token','readonly','deduplicate_blocks_in_dependent_materialized_views','date_time_input_format','input_format_skip_unknown_fields','insert_deduplicate')"))
console.log(await c('CREATE TABLE t (a UInt32) ENGINE = MergeTree ORDER BY a SETTINGS non_replicated_deduplication_window = 100'))
console.log(await q('SELECT * FROM t', { readonly: 1 }))
console.log(await c('INSERT INTO t VALUES (1)', { readonly: 1 }))
console.log(await c('DROP TABLE t', { readonly: 1 }))
console.log(await q("SELECT name, value FROM system.settings WHERE name IN ('readonly')"))
console.log(await c('INSERT INTO t VALUES (2)'))
console.log(await q('SELECT count() c FROM t'))
// dedup token stickiness
await client.insert({ table: 't', values: [{ a: 10 }], format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: 'tok1' } })
await client.insert({ table: 't', values: [{ a: 11 }], format: 'JSONEachRow' })
console.log(await q('SELECT groupArray(a) FROM t'))
console.log(await q("SELECT name, value FROM system.settings WHERE name IN ('insert_deduplication_token')"))
console.log(await q("DESCRIBE (SELECT a, sumState(a) s, uniqState(a) u FROM t GROUP BY a)"))
console.log(await q("SELECT nosuchfn(1)"))
console.log(await q("SELECT * FROM nosuch"))
await client.close(); await client.close()
console.log('closed')
