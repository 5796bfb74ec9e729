import { createClient } from '@clickhouse/client'
import * as conn from 'chdb/connection'
const client = createClient({ connection: (conn as any).createChdbConnection({ path: ':memory:' }) })
const q = async (sql: string) => { try { const r = await client.query({ query: sql, format: 'JSONEachRow' }); return await r.json() } catch (e: any) { return 'ERR code=' + e.code + ' type=' + e.type + ' ' + e.message.slice(0, 250) } }
console.log(await q('SELECT version() v'))
console.log(await q("SELECT formatQuery('select a, sum(b) as s from `default`.src  group by a') f"))
console.log(await q("SELECT name, default_kind FROM system.columns WHERE database = 'system' AND table = 'one'"))
console.log(await q("SELECT toTypeName(defaultValueOfTypeName('Decimal(10,2)')) t"))
console.log(await client.ping())
await client.close()
console.log(await client.ping())
