/**
 * The OpenAPI contract, checked from outside by schemathesis (PyPI; installed by
 * scripts/lib/python-tools.sh into .services/python) against a live daemon with an admin key:
 * every operation of GET /openapi.json, examples, coverage and fuzzing phases, bounded in
 * examples per operation and in time. No answer may be a 5xx, and every answer must match the
 * status codes, content types and schemas the document declares.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { ROOT, metricValue, removeDir } from '../helpers.ts'
import { call, securedDaemon, type Secured } from './helpers.ts'

const run = promisify(execFile)
/** Test cases per operation and the time budget of the run (schemathesis --max-examples, --max-time). */
const MAX_EXAMPLES = 30
const MAX_SECONDS = 90
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_schema_conformance']

let s: Secured
let st: string

before(async () => {
  st = (await run('bash', [path.join(ROOT, 'scripts/lib/python-tools.sh')], { cwd: ROOT, timeout: 600_000 })).stdout.trim()
  s = await securedDaemon('contract')
})

after(async () => {
  await s?.daemon.kill('SIGTERM')
  if (s) await removeDir(s.module.dir)
})

test('GET /openapi.json is an OpenAPI 3 document naming every route with its schemas, behind a read key', async () => {
  assert.equal((await call(s.daemon.url, 'GET', '/openapi.json')).status, 401)
  const doc = (await call(s.daemon.url, 'GET', '/openapi.json', { key: s.keys.read })).body
  assert.match(doc.openapi, /^3\./)
  assert.deepEqual(Object.keys(doc.paths).sort(), [
    '/api/constraints',
    '/api/constraints/{pipeline}/{name}',
    '/api/constraints/{pipeline}/{name}/config',
    '/api/constraints/{pipeline}/{name}/disable',
    '/api/constraints/{pipeline}/{name}/enable',
    '/api/constraints/{pipeline}/{name}/limits',
    '/api/constraints/{pipeline}/{name}/metrics',
    '/api/constraints/{pipeline}/{name}/statistics',
    '/api/constraints/{pipeline}/{name}/violations',
    '/api/dlq/{pipeline}',
    '/api/dlq/{pipeline}/replay',
    '/api/mv',
    '/api/mv/{name}',
    '/api/mv/{name}/backfill',
    '/api/mv/{name}/query',
    '/api/mv/{name}/refresh',
    '/api/pipelines',
    '/api/pipelines/{pipeline}/reset',
    '/api/sql',
    '/api/streams/{stream}/peek',
    '/api/violations',
    '/health',
    '/ingest/{pipeline}',
    '/metrics',
    '/ready',
  ])
  assert.deepEqual(doc.paths['/api/violations'].get.parameters.find((p: { name: string }) => p.name === 'limit').schema, { type: 'integer', minimum: 1, maximum: 100000, default: 1000 })
  assert.deepEqual(doc.paths['/health'].get.security, [])
  assert.deepEqual(doc.security, [{ apiKey: [] }])
})

test(`schemathesis finds no 5xx and no answer outside the declared statuses, content types and schemas (${MAX_EXAMPLES} examples per operation, ${MAX_SECONDS} s)`, { timeout: (MAX_SECONDS + 240) * 1000 }, async () => {
  const reportDir = path.join(s.module.dir, 'schemathesis')
  // Path parameters name the daemon's real pipeline, constraints and view most of the time, so
  // that the runs reach the routes' logic and not only their 404s.
  const config = path.join(s.module.dir, 'schemathesis.toml')
  await writeFile(
    config,
    `[dictionaries.pipelines]
values = ["${s.module.name}"]
[dictionaries.constraints]
values = ["types", "ingest_rate"]
[dictionaries.views]
values = ["${s.view}"]

[parameters]
"path.pipeline" = { dictionary = "pipelines", probability = 0.8 }

[[operations]]
include-path-regex = "^/api/constraints/"
parameters = { "path.name" = { dictionary = "constraints", probability = 0.8 } }

[[operations]]
include-path-regex = "^/api/mv/"
parameters = { "path.name" = { dictionary = "views", probability = 0.8 } }
`,
  )
  const started = Date.now()
  const result = await run(
    st,
    [
      '--config-file', config,
      'run', `${s.daemon.url}/openapi.json`,
      '--header', `Authorization: Bearer ${s.keys.admin}`,
      '--checks', CHECKS.join(','),
      '--phases', 'examples,coverage,fuzzing',
      '--max-examples', String(MAX_EXAMPLES),
      '--max-time', String(MAX_SECONDS),
      '--workers', '2',
      '--request-timeout', '10',
      '--seed', '8',
      '--suppress-health-check', 'all',
      '--report', 'junit',
      '--report-dir', reportDir,
      '--no-color',
    ],
    { cwd: s.module.dir, timeout: (MAX_SECONDS + 180) * 1000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
  ).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: `${e.stdout}${e.stderr}` }),
  )
  const seconds = Math.round((Date.now() - started) / 1000)
  const junit = await readFile(path.join(reportDir, 'junit.xml'), 'utf8').catch(() => '')
  const lines = result.out.split('\n')
  const cases = lines[lines.findIndex((l) => /^\s*Test cases:/.test(l)) + 1]?.trim()
  const summary = lines.filter((l) => /passed|failed|errored|Operations:|Examples|Coverage|Fuzzing|Missing test data/i.test(l)).join('\n')
  console.log(`schemathesis: exit ${result.code} in ${seconds} s, test cases: ${cases}\n${summary}`)
  assert.equal(result.code, 0, result.out.slice(-20_000))
  assert.doesNotMatch(junit, /<failure/)
  assert.equal(await metricValue(s.daemon.url, 'flowhouse_http_server_errors_total'), 0, 'the daemon counted 5xx answers')
  assert.equal((await fetch(`${s.daemon.url}/health`)).status, 200)
})
