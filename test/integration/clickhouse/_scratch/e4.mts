import { createClient } from '@clickhouse/client'
import { Readable } from 'node:stream'
const client = createClient({ url: 'http://127.0.0.1:8123' })
const q = async (sql: string, settings?: any, params?: any) => { try { const r = await client.query({ query: sql, format: 'JSONEachRow', clickhouse_settings: settings, query_params: params }); return await r.json() } catch (e: any) { return 'ERR ' + e.constructor.name + ' code=' + e.code + ' type=' + e.type + ' ' + e.message.slice(0, 250) } }
const c = async (sql: string, settings?: any) => { try { await client.command({ query: sql, clickhouse_settings: settings }); return 'ok' } catch (e: any) { return 'ERR ' + e.constructor.name + ' code=' + e.code + ' type=' + e.type + ' ' + e.message.slice(0, 250) } }
console.log(await client.ping())
console.log(await q('SELECT version() AS v'))
console.log(await q('SELECT {a:UInt32} + 1 AS x', undefined, { a: 41 }))
console.log(await q('SELECT * FROM nosuch'))
console.log(await c('CREATE TABLE zz_ro (a UInt8) ENGINE = Memory', { readonly: 1 }))
console.log(await q('SELECT 1 AS one', { readonly: 1 }))
console.log(await c('CREATE TABLE IF NOT EXISTS zz_e4 (a UInt32, ts DateTime) ENGINE = MergeTree ORDER BY (a)'))
try { const r = await client.insert({ table: 'zz_e4', values: Readable.from(['{"a":1,"ts":978307260,"x":1}\n{"a":2,"ts":"2001-01-01 00:01:00"}\n']), format: 'JSONEachRow', clickhouse_settings: { input_format_skip_unknown_fields: 1 } }); console.log('insert', r) } catch (e: any) { console.log('ins ERR', e.message) }
try { const r = await client.insert({ table: 'zz_e4', values: [{a: 3, ts: 978307260}], format: 'JSONEachRow' }); console.log('insert', r) } catch (e: any) { console.log('ins ERR', e.message) }
try { const r = await client.insert({ table: 'zz_e4', values: [{a: 3, ts: 978307260}], format: 'JSONEachRow', clickhouse_settings: {insert_deduplication_token: 'x'} }); console.log('insert', r) } catch (e: any) { console.log('ins ERR', e.code, e.message) }
console.log(await q('SELECT count() c FROM zz_e4'))
console.log(await c('DROP TABLE zz_e4'))
const bad = createClient({ url: 'http://127.0.0.1:1', request_timeout: 2000 })
console.log(await bad.ping())
try { await bad.query({ query: 'SELECT 1' }) } catch (e: any) { console.log('conn err', e.constructor.name, e.code, e.message, Object.keys(e)) }
await bad.close(); await client.close()
