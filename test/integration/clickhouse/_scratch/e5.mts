import { createClient } from '@clickhouse/client'
import * as conn from 'chdb/connection'
import { mkdtempSync } from 'node:fs'
import { Readable } from 'node:stream'
const dir = process.argv[2] ?? mkdtempSync('/tmp/chx/d-')
const c1 = (conn as any).createChdbConnection({ path: dir })
const client = createClient({ connection: c1 })
const c2 = (conn as any).createChdbConnection({ path: dir })
const ro = createClient({ connection: c2 })
const q = async (cl: any, sql: string) => { try { const r = await cl.query({ query: sql, format: 'JSONEachRow' }); return JSON.stringify(await r.json()).slice(0, 100) } catch (e: any) { return 'ERR code=' + e.code + ' type=' + e.type + ' ' + e.message.slice(0, 120) } }
await ro.command({ query: 'SET readonly = 1' })
await client.command({ query: 'CREATE TABLE IF NOT EXISTS t (a UInt32, s String, ts DateTime) ENGINE = MergeTree ORDER BY a SETTINGS non_replicated_deduplication_window = 100' })
for (const sql of ['SELECT count() FROM t', "SELECT * FROM file('/etc/hostname', 'LineAsString')", "SELECT * FROM numbers(3)", 'CREATE TEMPORARY TABLE tt (a UInt8)', 'OPTIMIZE TABLE t FINAL', 'TRUNCATE TABLE t', 'ALTER TABLE t DELETE WHERE 1', 'SYSTEM STOP MERGES', 'DETACH TABLE t', 'SET readonly = 0', 'SELECT 1 SETTINGS readonly = 0', 'CREATE DATABASE x', "INSERT INTO FUNCTION file('/tmp/chx/x.csv', 'CSV', 'a UInt8') VALUES (1)", 'SELECT 1; DROP TABLE t', 'DROP TABLE t; SELECT 1', 'SHOW TABLES', 'DESCRIBE TABLE t', 'EXPLAIN SELECT 1']) console.log(sql.padEnd(40), await q(ro, sql))
// 100k row insert benchmark
const n = 100_000
const text = Array.from({ length: n }, (_, i) => JSON.stringify({ a: i, s: 'row-' + i + '-xxxxxxxxxxxxxxxx', ts: '2001-01-01T00:01:00.000Z' })).join('\n') + '\n'
console.log('bytes', text.length)
let t0 = performance.now()
await (await client.exec({ query: `INSERT INTO t SETTINGS insert_deduplication_token = 'b1', date_time_input_format = 'best_effort' FORMAT JSONEachRow`, values: Readable.from([Buffer.from(text)], { objectMode: false }) })).stream.destroy()
console.log('exec ms', performance.now() - t0)
t0 = performance.now()
t0 = performance.now()
const r = await c1.chdb.rawInsert({ table: 't', values: Buffer.from(text), format: 'JSONEachRow', settings: { insert_deduplication_token: 'b3', date_time_input_format: 'best_effort' } })
console.log('raw ms', performance.now() - t0, r.rowsWritten)
const rows = text.trim().split('\n').map((l) => JSON.parse(l))
t0 = performance.now()
await client.insert({ table: 't', values: rows, format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: 'b4', date_time_input_format: 'best_effort' } })
console.log('objects insert ms', performance.now() - t0)
console.log(await q(client, 'SELECT count() FROM t'))
console.log('ro sees new table', await q(ro, 'SELECT count() FROM t'))
if (process.argv[3] === 'hold') { console.log('holding'); await new Promise((r) => setTimeout(r, 8000)) }
await ro.close(); await client.close()
