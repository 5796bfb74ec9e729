/**
 * The documentation stays true: docs/metrics.md lists every metric of the catalog with its type
 * and labels, and the README's environment table lists every variable of the environment schema
 * (src/util/environment.ts) with its default.
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { registry } from '../../../src/metrics/metrics.ts'
import { ENVIRONMENT, variableSchema, type Variable } from '../../../src/util/environment.ts'
import { ROOT } from '../grafana/queries.ts'

test('docs/metrics.md has a row for every flowhouse metric with its type and exact labels', async () => {
  const docs = await readFile(path.join(ROOT, 'docs/metrics.md'), 'utf8')
  const rows = new Map<string, { type: string; labels: string }>()
  for (const line of docs.split('\n')) {
    const m = /^\| `(flowhouse_[a-z0-9_]+)` \| (counter|gauge|histogram|summary) \| ([^|]*) \|/.exec(line)
    if (m) rows.set(m[1]!, { type: m[2]!, labels: m[3]!.trim() })
  }
  const problems: string[] = []
  for (const m of await registry.getMetricsAsJSON()) {
    if (/^flowhouse_(process|nodejs)_/.test(m.name)) continue // prom-client defaults, documented as a group
    const metric = registry.getSingleMetric(m.name) as unknown as { labelNames: string[] }
    const labels = metric.labelNames.length === 0 ? '–' : metric.labelNames.join(', ')
    const row = rows.get(m.name)
    if (!row) problems.push(`${m.name} has no row`)
    else if (row.type !== String(m.type) || row.labels !== labels) problems.push(`${m.name}: documented as ${row.type} [${row.labels}], is ${m.type} [${labels}]`)
  }
  for (const name of rows.keys()) {
    if (!/^flowhouse_(process|nodejs)_/.test(name) && !registry.getSingleMetric(name)) problems.push(`${name} is documented but not registered`)
  }
  assert.deepEqual(problems, [])
  assert.match(docs, /flowhouse_process_cpu_seconds_total/)
})

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await sourceFiles(p)))
    else if (/\.(ts|mjs|js)$/.test(entry.name)) out.push(p)
  }
  return out
}

/** The README's "Configuration (environment)" rows: each variable of the first cell with its default cell. */
function readmeVariables(readme: string): Map<string, string> {
  const start = readme.indexOf('## Configuration (environment)')
  const section = readme.slice(start, readme.indexOf('\n## ', start + 10))
  const rows = new Map<string, string>()
  for (const line of section.split('\n')) {
    const cells = line.split(' | ')
    if (!line.startsWith('| `') || cells.length < 3) continue
    const names = [...cells[0]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)
    const defaults = names.length > 1 && cells[1]!.split(' / ').length === names.length ? cells[1]!.split(' / ') : names.map(() => cells[1]!)
    names.forEach((name, i) => rows.set(name, defaults[i]!.trim()))
  }
  return rows
}

test('the README environment table has a row for every variable of the schema, with the schema default', async () => {
  const rows = readmeVariables(await readFile(path.join(ROOT, 'README.md'), 'utf8'))
  const problems: string[] = []
  for (const name of Object.keys(ENVIRONMENT.properties) as Variable[]) {
    const cell = rows.get(name)
    const schema = variableSchema(name)
    if (cell === undefined) problems.push(`${name} has no row`)
    else if (schema.defaultText !== undefined || schema.default === undefined) {
      if (schema.default === undefined && schema.defaultText === undefined && !/unset/.test(cell)) problems.push(`${name}: default shown as ${cell}, the schema has none (unset)`)
    } else if (schema.default === '') {
      if (!/empty/.test(cell)) problems.push(`${name}: default shown as ${cell}, the schema's is empty`)
    } else if (!cell.includes(`\`${schema.default}\``) && !cell.includes(`\`./${schema.default}\``)) problems.push(`${name}: default shown as ${cell}, the schema's is ${schema.default}`)
  }
  for (const name of rows.keys()) if (!(name in ENVIRONMENT.properties)) problems.push(`${name} is documented but not in the schema`)
  assert.ok(rows.size > 50, `${rows.size} rows read`)
  assert.deepEqual(problems, [])
})

test('only util/environment.ts reads process.env (the CLI hands it over), and every variable src/ names is in the schema', async () => {
  const problems: string[] = []
  for (const file of [...(await sourceFiles(path.join(ROOT, 'src'))), ...(await sourceFiles(path.join(ROOT, 'bin')))]) {
    const rel = path.relative(ROOT, file)
    const code = (await readFile(file, 'utf8')).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
    if (/process\.env/.test(code) && rel !== 'src/util/environment.ts' && !rel.startsWith('src/cli/')) problems.push(`${rel} reads process.env`)
    for (const m of code.matchAll(/\bsetting\('([A-Z][A-Z0-9_]+)'|\benv\.([A-Z][A-Z0-9_]+)|\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g)) {
      const name = m[1] ?? m[2] ?? m[3]!
      if (!(name in ENVIRONMENT.properties)) problems.push(`${rel} reads ${name}, which is not in the schema`)
    }
  }
  assert.deepEqual(problems, [])
})
