import { createClient } from '@clickhouse/client'
import * as conn from 'chdb/connection'
const client = createClient({ connection: (conn as any).createChdbConnection({ path: ':memory:' }) })
const r = await client.query({ query: "SELECT code, name FROM system.errors WHERE code IN (3,6,8,10,16,20,26,27,32,36,38,41,43,44,46,47,48,49,53,57,60,62,69,70,72,76,81,107,115,117,128,131,159,160,164,173,190,192,194,201,202,203,209,210,225,236,241,242,244,252,279,285,319,349,394,425,439,497,516,999,1000,1002) ORDER BY code SETTINGS system_events_show_zero_values = 1", format: 'TSV' })
console.log(await r.text())
const r2 = await client.query({ query: "SELECT code, name FROM system.errors WHERE name ILIKE '%KEEPER%' OR name ILIKE '%ZOOKEEPER%' OR name ILIKE '%TIMEOUT%' OR name ILIKE '%NETWORK%' OR name ILIKE '%REPLICA%' OR name ILIKE '%CONNECT%' ORDER BY code SETTINGS system_events_show_zero_values = 1", format: 'TSV' })
console.log(await r2.text())
await client.close()
