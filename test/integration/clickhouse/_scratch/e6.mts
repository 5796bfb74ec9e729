import { createClient } from '@clickhouse/client'
import * as conn from 'chdb/connection'
try {
const c = createClient({ connection: (conn as any).createChdbConnection({ path: process.argv[2] }) })
const r = await c.query({ query: 'SELECT count() c FROM t', format: 'JSONEachRow' }); console.log('second process:', await r.json())
await c.close()
} catch (e: any) { console.log('second process ERR', e.message.slice(0, 300)) }
