import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { mergeSelect } from '../../../src/model/declarative.ts'
import { Key, t } from '../../../src/model/schema.ts'
import { OlapTable } from '../../../src/model/table.ts'
import { MaterializedView } from '../../../src/model/view.ts'

const flights = new OlapTable('flights', t.Object({ id: Key(t.String()), date: t.DateTime(), origin: t.String(), delay: t.Int32(), distance: t.UInt32() }), { orderByFields: ['id'] })

describe('declarative views', () => {
  test('compile to a state SELECT, an AggregatingMergeTree target and a merging view (avg as sum and count)', () => {
    const view = new MaterializedView({
      name: 'origin_stats',
      from: flights,
      filter: 'distance > 500',
      groupBy: ['origin', { day: 'toDate(date)' }],
      compute: { flights: { count: '*' }, avg_delay: { avg: 'delay' }, longest: { max: 'distance' } },
    })
    assert.equal(view.source, flights)
    assert.equal(
      view.select,
      'SELECT `origin`, toDate(date) AS `day`, countState() AS `flights`, sumState(`delay`) AS `avg_delay__sum`, countState(`delay`) AS `avg_delay__count`, maxState(`distance`) AS `longest` FROM flights WHERE (distance > 500) GROUP BY `origin`, `day`',
    )
    assert.deepEqual(view.target, { name: 'origin_stats_state', engine: 'AggregatingMergeTree', orderByFields: ['origin', 'day'] })
    assert.deepEqual(view.refresh, { mode: 'streaming', timezone: 'UTC', strategy: 'replace', gracePeriodSeconds: 0 })
    assert.equal(view.declarative?.mvName, 'origin_stats_mv')
    assert.equal(view.declarative?.queryView, 'origin_stats')
    assert.equal(view.declarative?.incremental, true)
    assert.deepEqual(view.notes, [])
    assert.equal(
      mergeSelect(view.declarative!, 'origin_stats_state'),
      'SELECT `origin`, `day`, countMerge(`flights`) AS `flights`, sumMerge(`avg_delay__sum`) / countMerge(`avg_delay__count`) AS `avg_delay`, maxMerge(`longest`) AS `longest` FROM origin_stats_state GROUP BY `origin`, `day`',
    )
  })

  test('first and last order by the source key unless given by; stddev and variance use the population forms', () => {
    const view = new MaterializedView({ name: 'spread', from: flights, groupBy: ['origin'], compute: { f: { first: 'delay' }, l: { last: 'delay', by: 'date' }, sd: { stddev: 'delay' }, v: { variance: 'delay' } }, refresh: { mode: 'manual' } })
    assert.equal(view.select, 'SELECT `origin`, argMinState(`delay`, `id`) AS `f`, argMaxState(`delay`, `date`) AS `l`, stddevPopState(`delay`) AS `sd`, varPopState(`delay`) AS `v` FROM flights GROUP BY `origin`')
    assert.equal(view.declarative?.incremental, false)
  })

  test('compute and groupBy take dotted paths into nested objects, and any key is a quoted column', () => {
    const quakes = new OlapTable('quakes', t.Object({ id: Key(t.String()), 'Event Type': t.String(), properties: t.Object({ mag: t.Number(), place: t.String() }) }))
    const view = new MaterializedView({ name: 'mags', from: quakes, groupBy: ['Event Type', 'properties.place'], compute: { n: { count: '*' }, 'avg mag': { avg: 'properties.mag' } } })
    assert.equal(
      view.select,
      "SELECT `Event Type`, tupleElement(`properties`, 'place') AS `properties.place`, countState() AS `n`, sumState(tupleElement(`properties`, 'mag')) AS `avg mag__sum`, countState(tupleElement(`properties`, 'mag')) AS `avg mag__count` FROM quakes GROUP BY `Event Type`, `properties.place`",
    )
    assert.deepEqual(view.target.orderByFields, ['Event Type', 'properties.place'])
  })

  test('a compute or groupBy naming a field that is not in the source schema is refused with its name', () => {
    const quakes = new OlapTable('quakes', t.Object({ id: Key(t.String()), properties: t.Object({ mag: t.Number() }) }))
    assert.throws(() => new MaterializedView({ name: 'mags', from: quakes, groupBy: ['id'], compute: { m: { avg: 'properties.mgn' } } }), {
      message: 'view "mags": option "compute.m": field "properties.mgn" is not in the schema of table "quakes"; name a field of the schema, nested fields as dotted paths ("id", "properties", "properties.mag")',
    })
    assert.throws(() => new MaterializedView({ name: 'mags', from: quakes, groupBy: ['mag'], compute: { n: { count: '*' } } }), {
      message: 'view "mags": option "groupBy": field "mag" is not in the schema of table "quakes"; name a field of the schema, nested fields as dotted paths ("id", "properties", "properties.mag")',
    })
  })

  test('a non-incremental function without a refresh mode makes the view manual and says so', () => {
    const view = new MaterializedView({ name: 'spread', from: 'flights', groupBy: ['origin'], compute: { sd: { stddev: 'delay' } } })
    assert.equal(view.refresh.mode, 'manual')
    assert.deepEqual(view.notes, [
      `view "spread": "sd" (stddev) needs a full refresh, so the view is refreshed manually (POST /api/mv/spread/refresh); to refresh it on a schedule, set refresh: { mode: 'scheduled', schedule: '*/5 * * * *' } or { mode: 'manual' }`,
    ])
  })

  test('a non-incremental function refuses streaming and append', () => {
    assert.throws(() => new MaterializedView({ name: 'spread', from: 'flights', groupBy: ['origin'], compute: { sd: { stddev: 'delay' }, v: { variance: 'delay' } }, refresh: { mode: 'streaming' } }), {
      message: `view "spread": option "refresh.mode": "sd" (stddev), "v" (variance) cannot be maintained incrementally by the MV trigger (first, last, stddev and variance need a full refresh); set refresh: { mode: 'scheduled', schedule: '*/5 * * * *' } or { mode: 'manual' }`,
    })
    assert.throws(() => new MaterializedView({ name: 'spread', from: 'flights', groupBy: ['origin'], compute: { sd: { stddev: 'delay' } }, refresh: { mode: 'scheduled', schedule: '0 * * * *', strategy: 'append' } }), {
      message: `view "spread": option "refresh.strategy": "sd" (stddev) cannot be appended to (first, last, stddev and variance need a full refresh); use strategy: 'replace'`,
    })
  })

  test('first needs an ordering column when the source is a table name', () => {
    assert.throws(() => new MaterializedView({ name: 'x', from: 'flights', groupBy: ['origin'], compute: { f: { first: 'delay' } }, refresh: { mode: 'manual' } }), {
      message: `view "x": option "compute.f": first needs an ordering column; add by: '<column>', e.g. { first: 'delay', by: 'date' }`,
    })
  })

  test('malformed declarations name the option', () => {
    const base = { name: 'x', from: 'flights', groupBy: ['origin'], compute: { n: { count: '*' } } }
    assert.throws(() => new MaterializedView({ ...base, groupBy: [] }), {
      message: `view "x": option "groupBy": must be a non-empty array of column names or { alias: 'expression' } (got []); e.g. groupBy: ['origin', { day: 'toDate(date)' }]`,
    })
    assert.throws(() => new MaterializedView({ ...base, compute: { n: { median: 'delay' } as never } }), {
      message: `view "x": option "compute.n": must name exactly one function of "count", "sum", "min", "max", "avg", "first", "last", "stddev", "variance" (got {"median":"delay"}); e.g. { count: '*' }, { avg: 'delay' } or { first: 'delay', by: 'date' }`,
    })
    assert.throws(() => new MaterializedView({ ...base, compute: { n: { sum: '*' } } }), { message: `view "x": option "compute.n": sum needs a source column name (got "*"); e.g. { sum: 'delay' }` })
    assert.throws(() => new MaterializedView({ ...base, compute: { origin: { count: '*' } } }), { message: 'view "x": option "compute": the output column "origin" is declared twice; give every grouping key and computed column its own name' })
    assert.throws(() => new MaterializedView({ ...base, filter: '1; DROP TABLE flights' }), {
      message: `view "x": option "filter": must be one SQL predicate over source columns (got "1; DROP TABLE flights"); e.g. filter: 'distance > 500'`,
    })
  })
})

describe('refresh options', () => {
  const sql = { name: 'v', select: 'SELECT origin FROM flights', source: 'flights', target: { name: 'v_data', orderByFields: ['origin'] } }

  test('scheduled views take a cron expression, a time zone, a strategy and a grace period', () => {
    const view = new MaterializedView({ ...sql, refresh: { mode: 'scheduled', schedule: '*/10 * * * * *', timezone: 'Europe/Paris', strategy: 'append', gracePeriod: '15m' } })
    assert.deepEqual(view.refresh, { mode: 'scheduled', schedule: '*/10 * * * * *', timezone: 'Europe/Paris', strategy: 'append', gracePeriodSeconds: 900 })
  })

  test('bad refresh options are refused with a fix', () => {
    assert.throws(() => new MaterializedView({ ...sql, refresh: { mode: 'scheduled' } }), {
      message: `view "v": option "refresh.schedule": a scheduled view needs a cron expression (got undefined); e.g. schedule: '0 * * * *' (hourly) or '*/10 * * * * *' (every 10 seconds)`,
    })
    assert.throws(() => new MaterializedView({ ...sql, refresh: { mode: 'scheduled', schedule: 'every minute' } }), { message: /^view "v": option "refresh.schedule": "every minute" is not a cron expression/ })
    assert.throws(() => new MaterializedView({ ...sql, refresh: { mode: 'hourly' as never } }), {
      message: `view "v": option "refresh.mode": must be one of "streaming", "scheduled", "manual" (got "hourly"); use 'streaming' (ClickHouse's MV trigger), 'scheduled' (cron) or 'manual'`,
    })
    assert.throws(() => new MaterializedView({ ...sql, refresh: { mode: 'manual', timezone: 'Mars/Olympus' } }), { message: `view "v": option "refresh.timezone": unknown time zone "Mars/Olympus"; use an IANA name such as 'UTC' or 'Europe/Paris'` })
    assert.throws(() => new MaterializedView({ ...sql, refresh: { mode: 'manual', gracePeriod: 'soon' } }), {
      message: `view "v": option "refresh.gracePeriod": must be a number of seconds or a duration such as '15m' (got "soon"); e.g. gracePeriod: '15m' or gracePeriod: 900`,
    })
    assert.throws(() => new MaterializedView({ ...sql, refresh: { mode: 'streaming', strategy: 'append' } }), {
      message: `view "v": option "refresh.strategy": a strategy only applies to scheduled and manual views (a streaming view is kept current by the MV trigger); set refresh.mode: 'scheduled' or 'manual', or remove the strategy`,
    })
    assert.throws(() => new MaterializedView({ ...sql, refresh: { mode: 'manual' }, cluster: 'auto' }), {
      message: `view "v": option "cluster": ON CLUSTER views are streaming views (scheduled and manual refreshes run on one node); remove cluster, or use refresh: { mode: 'streaming' }`,
    })
  })
})
