import { createClient } from '@clickhouse/client'
import * as conn from 'chdb/connection'
import { mkdtempSync } from 'node:fs'
import { Readable } from 'node:stream'
const dir = mkdtempSync('/tmp/chx/d-')
const c1 = (conn as any).createChdbConnection({ path: dir })
const client = createClient({ connection: c1 })
const q = async (sql: string) => { try { const r = await client.query({ query: sql, format: 'JSONEachRow' }); return await r.json() } catch (e: any) { return 'ERR code=' + e.code + ' type=' + e.type + ' ' + e.message.slice(0, 250) } }
const c = async (sql: string) => { try { await client.command({ query: sql }); return 'ok' } catch (e: any) { return 'ERR code=' + e.code + ' type=' + e.type + ' ' + e.message.slice(0, 250) } }
const W = process.argv[2] === 'nowin' ? '' : ' SETTINGS non_replicated_deduplication_window = 1000'
console.log(await c('CREATE TABLE src (id String, ts DateTime, origin String, delay Int32) ENGINE = MergeTree ORDER BY (id) SETTINGS non_replicated_deduplication_window = 1000'))
console.log(await q("DESCRIBE (SELECT origin, sumState(delay) AS total, uniqState(id) AS u, countState() AS n, avgState(delay) AS a FROM src GROUP BY origin)"))
console.log(await c(`CREATE TABLE sum_t (origin String, n UInt64, total Int64) ENGINE = SummingMergeTree ORDER BY (origin)${W}`))
console.log(await c('CREATE MATERIALIZED VIEW sum_mv TO sum_t AS SELECT origin, count() AS n, sum(delay) AS total FROM src GROUP BY origin'))
console.log(await c(`CREATE TABLE agg_t (origin String, total AggregateFunction(sum, Int32), u AggregateFunction(uniq, String)) ENGINE = AggregatingMergeTree ORDER BY (origin)${W}`))
console.log(await c('CREATE MATERIALIZED VIEW agg_mv TO agg_t AS SELECT origin, sumState(delay) AS total, uniqState(id) AS u FROM src GROUP BY origin'))
const body = [{ id: 'a', ts: '2001-01-01T00:01:00.000Z', origin: 'SFO', delay: 5 }, { id: 'b', ts: '2001-01-01T00:02:00.000Z', origin: 'LAX', delay: 7 }].map(r => JSON.stringify(r)).join('\n') + '\n'
const ins = (tok: string) => client.exec({ query: `INSERT INTO src SETTINGS insert_deduplication_token = '${tok}', deduplicate_blocks_in_dependent_materialized_views = 1, date_time_input_format = 'best_effort' FORMAT JSONEachRow`, values: Readable.from([body]) })
await ins('k1'); await ins('k1'); await ins('k2')
console.log(await q('SELECT count() c FROM src'))
console.log(await q('SELECT origin, sum(n) n, sum(total) t FROM sum_t GROUP BY origin ORDER BY origin'))
console.log(await q('SELECT origin, sumMerge(total) t, uniqMerge(u) u FROM agg_t GROUP BY origin ORDER BY origin'))
console.log(await q('SELECT count() FROM sum_t'))
console.log(await q("SELECT as_select, engine FROM system.tables WHERE name = 'sum_mv'"))
console.log(await q("SELECT create_table_query FROM system.tables WHERE name = 'sum_mv'"))
console.log(await q("SELECT name, type, position, default_kind FROM system.columns WHERE table = 'agg_t' AND database = currentDatabase()"))
console.log(await q("SELECT currentDatabase() d"))
await client.close()
try { const c3 = (conn as any).createChdbConnection({ path: dir + 'y' }); console.log('after close other path OK'); await c3.close() } catch (e: any) { console.log('after close other path ERR', e.message) }
