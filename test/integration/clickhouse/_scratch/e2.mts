import { createClient } from '@clickhouse/client'
import * as conn from 'chdb/connection'
import { mkdtempSync } from 'node:fs'
import { Readable } from 'node:stream'
const dir = mkdtempSync('/tmp/chx/d-')
const c1 = (conn as any).createChdbConnection({ path: dir })
const client = createClient({ connection: c1 })
let c2: any
try { c2 = (conn as any).createChdbConnection({ path: dir }); console.log('second conn same path OK') } catch (e: any) { console.log('second conn same path ERR', e.message) }
try { (conn as any).createChdbConnection({ path: dir + 'x' }); console.log('other path OK') } catch (e: any) { console.log('other path ERR', e.message) }
const ro = createClient({ connection: c2 })
const q = async (cl: any, sql: string, settings?: any) => { try { const r = await cl.query({ query: sql, format: 'JSONEachRow', clickhouse_settings: settings }); return await r.json() } catch (e: any) { return 'ERR code=' + e.code + ' type=' + e.type + ' ' + e.message.slice(0, 150) } }
const c = async (cl: any, sql: string, settings?: any) => { try { await cl.command({ query: sql, clickhouse_settings: settings }); return 'ok' } catch (e: any) { return 'ERR code=' + e.code + ' type=' + e.type + ' ' + e.message.slice(0, 150) } }
console.log(await c(client, 'CREATE TABLE t (a UInt32) ENGINE = MergeTree ORDER BY a SETTINGS non_replicated_deduplication_window = 100'))
console.log('ro set', await c(ro, 'SET readonly = 1'))
console.log('ro select', await q(ro, 'SELECT count() FROM t'))
console.log('ro insert', await c(ro, 'INSERT INTO t VALUES (5)'))
console.log('ro multi', await q(ro, 'SELECT 1; INSERT INTO t VALUES (5)'))
console.log('rw insert', await c(client, 'INSERT INTO t VALUES (6)'))
console.log('rw settings readonly?', await q(client, "SELECT value FROM system.settings WHERE name='readonly'"))
console.log('multi rw', await q(client, 'SELECT 1 AS x; SELECT 2 AS y'))
// inline settings insert
const ins = async (tok: string | null, a: number) => { const s = tok ? ` SETTINGS insert_deduplication_token = '${tok}'` : ''; await client.exec({ query: `INSERT INTO t${s} FORMAT JSONEachRow`, values: Readable.from([JSON.stringify({ a }) + '\n']) }) }
await ins('tok1', 10); await ins('tok1', 11); await ins(null, 12); await ins(null, 12)
console.log('after inline', await q(client, 'SELECT groupArray(a) g FROM t'))
console.log('token sticky?', await q(client, "SELECT value FROM system.settings WHERE name='insert_deduplication_token'"))
// chdb ext raw insert
const r = await c1.chdb.rawInsert({ table: 't', values: Buffer.from('{"a":20}\n{"a":21}\n'), format: 'JSONEachRow', settings: { insert_deduplication_token: 'tok2' } })
const r2 = await c1.chdb.rawInsert({ table: 't', values: Buffer.from('{"a":22}\n'), format: 'JSONEachRow', settings: { insert_deduplication_token: 'tok2' } })
console.log(r, r2, await q(client, 'SELECT groupArray(a) g FROM t'))
console.log(await q(client, "SELECT name FROM system.settings WHERE name LIKE '%dedup%'"))
console.log(await q(client, "SELECT name FROM system.merge_tree_settings WHERE name LIKE '%dedup%'"))
