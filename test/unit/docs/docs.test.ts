/**
 * The documentation stays true: docs/metrics.md lists every metric of the catalog with its type
 * and labels, and the README's environment table lists every variable the code reads.
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { registry } from '../../../src/metrics/metrics.ts'
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

test('the README environment table lists every variable the daemon and the CLI read', async () => {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8')
  const table = readme.slice(readme.indexOf('## Configuration (environment)'), readme.indexOf('\n## ', readme.indexOf('## Configuration (environment)') + 10))
  const read = new Set<string>()
  for (const file of [...(await sourceFiles(path.join(ROOT, 'src'))), ...(await sourceFiles(path.join(ROOT, 'bin')))]) {
    const text = await readFile(file, 'utf8')
    for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)|\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]|\benv, ['"]([A-Z][A-Z0-9_]+)['"]/g)) read.add(m[1] ?? m[2] ?? m[3]!)
  }
  assert.ok(read.has('KAFKA_BROKERS') && read.has('FLOWHOUSE_READY_PAUSE_THRESHOLD_MS'), [...read].join(', '))
  const missing = [...read].filter((name) => !table.includes(`\`${name}\``)).sort()
  assert.deepEqual(missing, [])
})
