import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { FlowhouseError } from '../../../src/errors.ts'
import { openReader, readAll } from '../../../src/replay/readers.ts'
import { chdb, DATA, FLIGHTS_2K, FLIGHTS_3M, parquetRows } from './truth.ts'

let dir: string
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'replay-readers-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

function withoutId(records: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return records.map(({ id: _id, ...rest }) => rest)
}

describe('parquet reader', () => {
  it('reads the first 1,000 rows of flights-3m.parquet exactly as ClickHouse reads the same file', async () => {
    const rows = await readAll(FLIGHTS_3M, { limit: 1_000 })
    assert.equal(rows.length, 1_000)
    assert.deepEqual(rows[0], { date: '2001-01-01T00:01:00.000Z', delay: 33, distance: 2176, origin: 'LAS', destination: 'PHL', id: '0' })
    assert.deepEqual(withoutId(rows), parquetRows(0, 1_000))
  })

  it('reads a range that crosses a row group boundary in file order', async () => {
    const [meta] = chdb<{ rows: number; groups: number }>(
      `SELECT tupleElement(row_groups[1], 'num_rows') AS rows, length(row_groups) AS groups FROM file('${FLIGHTS_3M}', ParquetMetadata) SETTINGS output_format_json_quote_64bit_integers = 0`,
    )
    assert.ok(meta!.groups > 1, 'the file has several row groups')
    const skip = meta!.rows - 50
    const rows = await readAll(FLIGHTS_3M, { skip, limit: 100, chunkRows: 30 })
    assert.deepEqual(withoutId(rows), parquetRows(skip, 100))
    assert.deepEqual(
      rows.map((r) => r.id),
      Array.from({ length: 100 }, (_, i) => String(skip + i)),
    )
  })

  it('knows the row count from the footer and the size of the selected range', async () => {
    const all = await openReader(FLIGHTS_3M)
    assert.equal(all.format, 'parquet')
    assert.equal(all.fileRows, 3_000_000)
    assert.equal(all.totalRows, 3_000_000)
    assert.equal((await openReader(FLIGHTS_3M, { skip: 2_999_990, limit: 100 })).totalRows, 10)
    assert.equal((await openReader(FLIGHTS_3M, { skip: 5_000_000 })).totalRows, 0)
    assert.deepEqual(await readAll(FLIGHTS_3M, { skip: 5_000_000 }), [])
    assert.deepEqual(await readAll(FLIGHTS_3M, { limit: 0 }), [])
  })

  it('yields chunks of at most chunkRows records whose firstRow is the file row of their first record', async () => {
    const reader = await openReader(FLIGHTS_3M, { skip: 10, limit: 25, chunkRows: 10 })
    const chunks = []
    for await (const chunk of reader.chunks()) chunks.push({ firstRow: chunk.firstRow, n: chunk.records.length, firstId: chunk.records[0]!.id })
    assert.deepEqual(chunks, [
      { firstRow: 10, n: 10, firstId: '10' },
      { firstRow: 20, n: 10, firstId: '20' },
      { firstRow: 30, n: 5, firstId: '30' },
    ])
  })

  it('reads all 3,000,000 rows with the count and delay sum ClickHouse computes, without holding the file in memory', { timeout: 120_000 }, async () => {
    const [truth] = chdb<{ n: number; delay: number; distance: number }>(
      `SELECT count() AS n, toFloat64(sum(delay)) AS delay, toFloat64(sum(distance)) AS distance FROM file('${FLIGHTS_3M}', Parquet) SETTINGS output_format_json_quote_64bit_integers = 0`,
    )
    let n = 0
    let delay = 0
    let distance = 0
    let maxChunk = 0
    let peakHeap = 0
    const reader = await openReader(FLIGHTS_3M)
    for await (const chunk of reader.chunks()) {
      assert.equal(chunk.firstRow, n)
      maxChunk = Math.max(maxChunk, chunk.records.length)
      for (const r of chunk.records) {
        delay += r.delay as number
        distance += r.distance as number
      }
      n += chunk.records.length
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
    }
    assert.deepEqual({ n, delay, distance }, truth)
    assert.equal(maxChunk, 10_000)
    // 3M flights as objects take well over 1 GB of heap; one row group's columns a few tens of MB.
    assert.ok(peakHeap < 400e6, `peak heap ${Math.round(peakHeap / 1e6)} MB`)
  })
})

describe('JSON array reader', () => {
  it('reads flights-2k.json with dates rewritten to the ISO-8601 UTC form parquet timestamps get', async () => {
    const raw = JSON.parse(await readFile(FLIGHTS_2K, 'utf8')) as Array<Record<string, unknown>>
    const rows = await readAll(FLIGHTS_2K)
    assert.equal(rows.length, 2_000)
    assert.deepEqual(rows[0], { date: '2001-01-01T06:55:00.000Z', delay: -19, distance: 1797, origin: 'LAX', destination: 'BNA', id: '0' })
    rows.forEach((row, i) => {
      const [y, mo, d, h, mi] = (raw[i]!.date as string).split(/[/ :]/)
      assert.deepEqual(row, { ...raw[i], date: `${y}-${mo}-${d}T${h}:${mi}:00.000Z`, id: String(i) })
    })
  })

  it('gives a flight from flights-2k.json the same date as the same flight in flights-3m.parquet', async () => {
    const [first] = await readAll(FLIGHTS_2K, { limit: 1 })
    // (aliases must not shadow `date`: ClickHouse resolves aliases in WHERE)
    const same = chdb<{ iso: string }>(
      `SELECT formatDateTime(date, '%Y-%m-%dT%H:%i:%S.000Z', 'UTC') AS iso FROM file('${FLIGHTS_3M}', Parquet)
       WHERE origin = 'LAX' AND destination = 'BNA' AND delay = -19 AND distance = 1797 AND toDate(date) = '2001-01-01'`,
    )
    assert.deepEqual(same, [{ iso: first!.date }])
  })

  it('keeps date strings as they are with normalizeDates: false', async () => {
    const [first] = await readAll(FLIGHTS_2K, { limit: 1, normalizeDates: false })
    assert.equal(first!.date, '2001/01/01 06:55')
  })

  it('selects rows with skip and limit and numbers ids by file row', async () => {
    const rows = await readAll(FLIGHTS_2K, { skip: 1_990, limit: 100, chunkRows: 3 })
    assert.deepEqual(
      rows.map((r) => r.id),
      ['1990', '1991', '1992', '1993', '1994', '1995', '1996', '1997', '1998', '1999'],
    )
    assert.equal((await openReader(FLIGHTS_2K)).totalRows, undefined)
  })

  it('reads a 200,000-record file (several 1 MiB read pieces) completely and in order', async () => {
    const file = `${DATA}flights-200k.json`
    const raw = JSON.parse(await readFile(file, 'utf8')) as unknown[]
    const rows = await readAll(file, { idField: null })
    assert.equal(rows.length, raw.length)
    assert.deepEqual(rows, raw)
  })

  it('keeps ids a record already has, sets missing or null ones, and honours a custom idField', async () => {
    const file = path.join(dir, 'ids.json')
    await writeFile(file, JSON.stringify([{ id: 'a', v: 1 }, { v: 2 }, { id: null, v: 3 }, { key: 7, v: 4 }]))
    assert.deepEqual(await readAll(file), [
      { id: 'a', v: 1 },
      { v: 2, id: '1' },
      { id: '2', v: 3 },
      { key: 7, v: 4, id: '3' },
    ])
    assert.deepEqual(
      (await readAll(file, { idField: 'key' })).map((r) => r.key),
      ['0', '1', '2', 7],
    )
    assert.deepEqual(await readAll(file, { idField: null, limit: 1, skip: 1 }), [{ v: 2 }])
  })

  it('rejects a file that is not one JSON array of objects, naming the file and the row', async () => {
    const cases: Array<[string, string]> = [
      ['{"a":1}', 'expected the file to hold one JSON array (first character must be "[")'],
      ['[{"a":1},{"a":', 'unexpected end of file: the JSON array is not closed'],
      ['[{"a":1}] x', 'content after the closing bracket of the array'],
      ['[{"a":1},,{"a":2}]', 'empty element at position 1 of the array'],
      ['[{"a":1},[1,2]]', 'row 1 is not a JSON object'],
      ['[{"a":1},{"a":tru}]', 'row 1 is not valid JSON: '],
    ]
    for (const [i, [text, message]] of cases.entries()) {
      const file = path.join(dir, `bad-${i}.json`)
      await writeFile(file, text)
      await assert.rejects(readAll(file), (error: unknown) => {
        assert.ok(error instanceof FlowhouseError)
        assert.equal(error.code, 'DECODE_FAILED')
        assert.ok(error.message.startsWith(`${file}: ${message}`), error.message)
        return true
      })
    }
  })

  it('reads an empty array as no records and tolerates whitespace and a byte order mark', async () => {
    const file = path.join(dir, 'empty.json')
    await writeFile(file, '\ufeff  [ ]\n')
    assert.deepEqual(await readAll(file), [])
    await writeFile(file, '\n[\n {"a": "]"} ,\n {"b": [1, {"c": "}"}]}\n]\n')
    assert.deepEqual(await readAll(file, { idField: null }), [{ a: ']' }, { b: [1, { c: '}' }] }])
  })
})

describe('openReader', () => {
  it('decides the format from the extension and says which ones it supports', async () => {
    await assert.rejects(openReader('flights.csv'), {
      code: 'BAD_REQUEST',
      message: 'cannot replay "flights.csv": unsupported file type ".csv"; use a .parquet file or a .json file holding one JSON array of records',
    })
    await assert.rejects(openReader(path.join(dir, 'missing.parquet')), { code: 'NOT_FOUND', message: `cannot replay "${path.join(dir, 'missing.parquet')}": no such file` })
    assert.equal((await openReader(FLIGHTS_2K.replace('.json', '.JSON').replace('.JSON', '.json'))).format, 'json')
  })

  it('rejects a .parquet file that is not parquet', async () => {
    const file = path.join(dir, 'fake.parquet')
    await writeFile(file, '[{"a":1}]')
    await assert.rejects(openReader(file), { code: 'DECODE_FAILED' })
  })

  it('rejects a negative or fractional skip and limit', async () => {
    await assert.rejects(openReader(FLIGHTS_2K, { skip: -1 }), { code: 'BAD_REQUEST', message: 'skip must be a non-negative integer, got -1' })
    await assert.rejects(openReader(FLIGHTS_2K, { limit: 1.5 }), { code: 'BAD_REQUEST', message: 'limit must be a non-negative integer, got 1.5' })
  })
})
