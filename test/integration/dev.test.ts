/**
 * The README's first command, shortened: `flowhouse dev --limit N --exit` starts Kafka, runs the
 * daemon on the embedded engine with ./pipelines, replays real flights and prints a query over
 * the flights_daily_delays view; its numbers must match ClickHouse over the parquet file.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { test } from 'node:test'
import { ROOT, flightsSource, freePort, truth } from './helpers.ts'

const N = 20_000

test('flowhouse dev replays real flights and prints the busiest origins from the view, equal to the parquet aggregate', { timeout: 300_000 }, async () => {
  const port = await freePort()
  let output = ''
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), 'dev', '--limit', String(N), '--exit'], {
    cwd: ROOT,
    env: { ...process.env, FLOWHOUSE_PORT: String(port), FLOWHOUSE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  assert.equal(code, 0, output)
  assert.match(output, /▶ 20,000 flights in ClickHouse after/)
  const expected = await truth<{ origin: string; n: number; delayed: number }>(
    `SELECT origin, count() AS n, countIf(delay > 15) AS delayed FROM ${flightsSource(N)} GROUP BY origin ORDER BY n DESC, origin LIMIT 3`,
  )
  for (const row of expected) {
    assert.match(output, new RegExp(`^\\s*${row.origin}\\s+${row.n}\\s+${row.delayed}\\s`, 'm'), `row for ${row.origin} in:\n${output}`)
  }
})
