/**
 * Real JSON as it comes: vega-datasets movies.json (3,201 records, keys such as
 * "Rotten Tomatoes Rating" and "US Gross", thousands of nulls, nine numeric titles) replayed with
 * `flowhouse replay FILE --pipeline` into a table and a declarative view, against the real broker
 * and the embedded ClickHouse. The expected contents come from ClickHouse itself reading the raw
 * file in the test process (JSON functions over each record), not from flowhouse's code.
 * earthquakes.json (USGS GeoJSON) checks a validation rule and a view on nested fields.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { ROOT, metricValue, readTopic, removeDir, runReplay, sql, startDaemon, tempDir, truth, waitFor, type DaemonProcess } from './helpers.ts'

const MOVIES = path.join(ROOT, 'node_modules/vega-datasets/data/movies.json')
const EARTHQUAKES = path.join(ROOT, 'node_modules/vega-datasets/data/earthquakes.json')
const name = `movies_${randomBytes(4).toString('hex')}`
const quakes = `quakes_${randomBytes(4).toString('hex')}`
let daemon: DaemonProcess
let dir: string

// Every key of the file but "IMDB Votes", which is left out on purpose: an unknown field, ignored and counted.
const moduleText = `
import { IngestPipeline, Key, MaterializedView, t } from 'flowhouse'

const Movie = t.Object({
  id: Key(t.String()),
  Title: t.Optional(t.String()),
  'US Gross': t.Optional(t.Number()),
  'Worldwide Gross': t.Optional(t.Number()),
  'US DVD Sales': t.Optional(t.Number()),
  'Production Budget': t.Optional(t.Number()),
  'Release Date': t.String(),
  'MPAA Rating': t.Optional(t.String()),
  'Running Time min': t.Optional(t.Int32()),
  Distributor: t.Optional(t.String()),
  Source: t.Optional(t.String()),
  'Major Genre': t.Optional(t.String()),
  'Creative Type': t.Optional(t.String()),
  Director: t.Optional(t.String()),
  'Rotten Tomatoes Rating': t.Optional(t.Int32()),
  'IMDB Rating': t.Optional(t.Number()),
})

export const movies = new IngestPipeline('${name}', { schema: Movie })

export const byGenre = new MaterializedView({
  name: '${name}_by_genre',
  from: movies,
  groupBy: [{ genre: "ifNull(\`Major Genre\`, '')" }],
  compute: { movies: { count: '*' }, us_gross: { sum: 'US Gross' }, rotten: { avg: 'Rotten Tomatoes Rating' } },
})
`

// GeoJSON features (USGS, one week of 2018): the rule and the view reach into \`properties\`.
const quakesModule = `
import { Constraint, IngestPipeline, Key, MaterializedView, t } from 'flowhouse'

const Quake = t.Object({
  id: Key(t.String()),
  type: t.String(),
  properties: t.Object({ mag: t.Number(), place: t.String(), magType: t.String(), felt: t.Nullable(t.Integer()) }),
})

export const quakes = new IngestPipeline('${quakes}', {
  schema: Quake,
  constraints: [new Constraint({ name: 'mag_not_negative', type: 'validation', config: { rules: { 'properties.mag': { min: 0 } } } })],
})

export const byMagType = new MaterializedView({
  name: '${quakes}_by_type',
  from: quakes,
  groupBy: ['properties.magType'],
  compute: { n: { count: '*' }, avg_mag: { avg: 'properties.mag' } },
})
`
const FEATURES = `(SELECT arrayJoin(JSONExtractArrayRaw(json, 'features')) AS f FROM file('${EARTHQUAKES}', 'JSONAsString'))`

/** The records flowhouse accepts: a string or null Title (nine titles are numbers in the file). */
const SOURCE = `(SELECT json FROM file('${MOVIES}', 'JSONAsString') WHERE JSONType(json, 'Title') IN ('String', 'Null'))`
const num = (key: string) => `JSONExtract(json, '${key}', 'Nullable(Float64)')`

before(async () => {
  dir = await tempDir('json-as-it-comes')
  await mkdir(path.join(dir, 'pipelines'))
  await writeFile(path.join(dir, 'pipelines', 'movies.ts'), moduleText)
  await writeFile(path.join(dir, 'pipelines', 'quakes.ts'), quakesModule)
  daemon = await startDaemon({ pipelinesDir: path.join(dir, 'pipelines'), dataDir: path.join(dir, 'data'), env: { FLOWHOUSE_BATCH_FLUSH_MS: '300' } })
})

after(async () => {
  await daemon?.kill('SIGTERM')
  if (dir) await removeDir(dir)
})

test('movies.json with nulls and keys that are not identifiers fills a table and a view equal to ClickHouse over the file', { timeout: 240_000 }, async () => {
  const [file] = await truth<{ all: string; kept: string }>(`SELECT count() AS all, countIf(JSONType(json, 'Title') IN ('String', 'Null')) AS kept FROM file('${MOVIES}', 'JSONAsString')`)
  assert.deepEqual([Number(file!.all), Number(file!.kept)], [3201, 3192])

  const replay = runReplay([MOVIES, '--pipeline', name])
  const { code, output } = await replay.done
  assert.equal(code, 0, output)

  await waitFor(async () => Number((await sql<{ n: string }>(daemon.url, `SELECT count() AS n FROM ${name}`))[0]?.n) === 3192, { timeoutMs: 120_000, what: '3,192 movies in the table' })

  const expected = await truth<Record<string, number | string>>(`
    SELECT count() AS n, sum(${num('US Gross')}) AS us_gross, countIf(${num('US Gross')} IS NULL) AS us_gross_null,
           countIf(${num('US DVD Sales')} IS NULL) AS dvd_null, countIf(${num('Rotten Tomatoes Rating')} IS NULL) AS rotten_null,
           sum(${num('Rotten Tomatoes Rating')}) AS rotten_sum, round(sum(${num('IMDB Rating')}), 6) AS imdb_sum,
           countIf(JSONType(json, 'Title') = 'Null') AS title_null, countIf(JSONExtract(json, 'Major Genre', 'Nullable(String)') IS NULL) AS genre_null
    FROM ${SOURCE}`)
  const actual = await sql<Record<string, number | string>>(daemon.url, `
    SELECT count() AS n, sum(\`US Gross\`) AS us_gross, countIf(\`US Gross\` IS NULL) AS us_gross_null,
           countIf(\`US DVD Sales\` IS NULL) AS dvd_null, countIf(\`Rotten Tomatoes Rating\` IS NULL) AS rotten_null,
           sum(\`Rotten Tomatoes Rating\`) AS rotten_sum, round(sum(\`IMDB Rating\`), 6) AS imdb_sum,
           countIf(Title IS NULL) AS title_null, countIf(\`Major Genre\` IS NULL) AS genre_null
    FROM ${name}`)
  const numbers = (row: Record<string, number | string> | undefined) => Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)]))
  assert.deepEqual(numbers(actual[0]), numbers(expected[0]))
  assert.equal(numbers(actual[0]).us_gross_null, 7, 'nulls are stored as NULL, not refused')

  const truthByGenre = await truth<{ genre: string; movies: string; us_gross: number; rotten: number }>(`
    SELECT ifNull(JSONExtract(json, 'Major Genre', 'Nullable(String)'), '') AS genre, count() AS movies,
           sum(${num('US Gross')}) AS us_gross, round(avg(${num('Rotten Tomatoes Rating')}), 6) AS rotten
    FROM ${SOURCE} GROUP BY genre ORDER BY genre`)
  const view = await waitFor(async () => {
    const rows = await sql<{ genre: string; movies: string; us_gross: number; rotten: number }>(daemon.url, `SELECT genre, movies, us_gross, round(rotten, 6) AS rotten FROM ${name}_by_genre ORDER BY genre`)
    return rows.reduce((s, r) => s + Number(r.movies), 0) === 3192 ? rows : undefined
  }, { what: 'the view to hold every movie' })
  assert.equal(view.length, 13)
  assert.deepEqual(
    view.map((r) => [r.genre, Number(r.movies), Number(r.us_gross), Number(r.rotten)]),
    truthByGenre.map((r) => [r.genre, Number(r.movies), Number(r.us_gross), Number(r.rotten)]),
  )
})

test('the nine numeric titles are dead-lettered with one line naming the field, the value and what was expected; the unknown field is ignored and counted', { timeout: 60_000 }, async () => {
  const titles = await truth<{ title: string }>(`SELECT JSONExtractRaw(json, 'Title') AS title FROM file('${MOVIES}', 'JSONAsString') WHERE JSONType(json, 'Title') NOT IN ('String', 'Null') ORDER BY title`)
  assert.equal(titles.length, 9)
  const dlq = (await readTopic(`${name}.dlq`, 9)).flatMap((m) => JSON.parse(m.value) as { reason: string } | Array<{ reason: string }>)
  assert.deepEqual(
    dlq.map((e) => e.reason).sort(),
    titles.map((t) => `field "Title": got number ${t.title}, expected string or null`).sort(),
  )
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: name, stage: 'validation' }), 9)
  assert.equal(await metricValue(daemon.url, 'flowhouse_records_unknown_fields_total', { pipeline: name }), 3192, 'every written movie carried "IMDB Votes", which the schema lacks')
})

test('a validation rule on a nested field (properties.mag) dead-letters exactly the negative magnitudes of earthquakes.json, and a view groups by a nested field', { timeout: 180_000 }, async () => {
  const features = (JSON.parse(await readFile(EARTHQUAKES, 'utf8')) as { features: unknown[] }).features
  const file = path.join(dir, 'features.json')
  await writeFile(file, JSON.stringify(features))
  const [counts] = await truth<{ all: string; negative: string }>(`SELECT count() AS all, countIf(JSONExtractFloat(f, 'properties', 'mag') < 0) AS negative FROM ${FEATURES}`)
  const negative = Number(counts!.negative)
  const kept = Number(counts!.all) - negative
  assert.deepEqual([Number(counts!.all), negative], [1707, 44])

  const { code, output } = await runReplay([file, '--pipeline', quakes]).done
  assert.equal(code, 0, output)
  await waitFor(async () => Number((await sql<{ n: string }>(daemon.url, `SELECT count() AS n FROM ${quakes}`))[0]?.n) === kept, { timeoutMs: 120_000, what: `${kept} earthquakes in the table` })
  await waitFor(async () => (await metricValue(daemon.url, 'flowhouse_records_dead_lettered_total', { pipeline: quakes, stage: 'constraint' })) === negative, { what: 'the negative magnitudes dead-lettered' })
  assert.equal(await metricValue(daemon.url, 'flowhouse_constraint_violations_total', { pipeline: quakes, constraint: 'mag_not_negative' }), negative)
  const [written] = await sql<{ below: string }>(daemon.url, `SELECT countIf(properties.mag < 0) AS below FROM ${quakes}`)
  assert.equal(Number(written!.below), 0)

  const expected = await truth<{ magType: string; n: string; avg_mag: number }>(`
    SELECT JSONExtractString(f, 'properties', 'magType') AS magType, count() AS n, round(avg(JSONExtractFloat(f, 'properties', 'mag')), 6) AS avg_mag
    FROM ${FEATURES} WHERE JSONExtractFloat(f, 'properties', 'mag') >= 0 GROUP BY magType ORDER BY magType`)
  const view = await waitFor(async () => {
    const rows = await sql<{ magType: string; n: string; avg_mag: number }>(daemon.url, `SELECT \`properties.magType\` AS magType, n, round(avg_mag, 6) AS avg_mag FROM ${quakes}_by_type ORDER BY magType`)
    return rows.reduce((s, r) => s + Number(r.n), 0) === kept ? rows : undefined
  }, { what: 'the view to hold every kept earthquake' })
  assert.deepEqual(view.map((r) => [r.magType, Number(r.n), Number(r.avg_mag)]), expected.map((r) => [r.magType, Number(r.n), Number(r.avg_mag)]))
})
