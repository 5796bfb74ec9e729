/**
 * The Grafana dashboards and the Prometheus alert rules: promtool accepts the rules, every panel
 * query parses as PromQL (promtool checks it as a recording rule), the generated dashboards are
 * committed as generated, and every metric they use is in the catalog (registered and documented).
 * promtool comes from Debian's `prometheus` package (installed by .ci/run).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { stringify } from 'yaml'
import { registry } from '../../../src/metrics/metrics.ts'
import { ALERTS_FILE, DASHBOARDS_DIR, PROMETHEUS_SERIES, ROOT, alertQueries, baseName, dashboardQueries, queryMetricNames, substituteGrafanaVariables } from './queries.ts'

const run = promisify(execFile)

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { timeout: 60_000 })
    return { code: 0, output: stdout + stderr }
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string }
    if (e.code === 'ENOENT') throw new Error('promtool is not installed: apt-get install prometheus (Debian), as .ci/run does')
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` }
  }
}

test('promtool check rules accepts grafana/alerts.yml, which has the lag, DLQ, readiness, MV staleness and insert error alerts', async () => {
  const { code, output } = await promtool('check', 'rules', ALERTS_FILE)
  assert.equal(code, 0, output)
  const names = (await alertQueries()).map((q) => q.source.replace('alerts.yml: ', ''))
  for (const alert of ['FlowhouseConsumerLagGrowing', 'FlowhouseDeadLetterRateHigh', 'FlowhouseNotReady', 'FlowhouseMaterializedViewStale', 'FlowhouseClickHouseInsertErrors']) {
    assert.ok(names.includes(alert), `alerts.yml has no ${alert}`)
  }
  const lag = (await alertQueries()).find((q) => q.source.endsWith('FlowhouseConsumerLagGrowing'))!
  assert.match(await readFile(ALERTS_FILE, 'utf8'), /alert: FlowhouseConsumerLagGrowing[\s\S]*?for: 5m/)
  assert.match(lag.expr, /flowhouse_consumer_lag_messages\[5m\]/)
})

test('promtool rejects a broken rule file, so the checks below can fail', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flowhouse-promtool-'))
  try {
    const file = path.join(dir, 'bad.yml')
    await writeFile(file, stringify({ groups: [{ name: 'bad', rules: [{ record: 'x:y', expr: 'sum by (pipeline (rate(flowhouse_records_written_total[1m]))' }] }] }))
    const { code, output } = await promtool('check', 'rules', file)
    assert.notEqual(code, 0, output)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('every dashboard panel query parses as PromQL (checked by promtool as recording rules)', async () => {
  const queries = (await dashboardQueries()).filter((q) => q.kind === 'promql')
  assert.ok(queries.length >= 30, `only ${queries.length} panel queries`)
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flowhouse-panels-'))
  try {
    const file = path.join(dir, 'panels.yml')
    const rules = queries.map((q, i) => ({ record: `flowhouse_panel:query_${i}`, expr: substituteGrafanaVariables(q.expr, { pipeline: 'flights', table: 'flights' }), labels: { source: q.source } }))
    await writeFile(file, stringify({ groups: [{ name: 'flowhouse-dashboards', rules }] }))
    const { code, output } = await promtool('check', 'rules', file)
    assert.equal(code, 0, output)
    assert.match(output, new RegExp(`SUCCESS: ${rules.length} rules found`))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('the committed dashboards are what scripts/grafana-dashboards.ts generates', async () => {
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/grafana-dashboards.ts'), '--check'], { cwd: ROOT }).catch((e: { stdout: string; stderr: string }) => {
    assert.fail(`dashboards are out of date:\n${e.stdout}${e.stderr}`)
  })
  assert.equal(stdout + stderr, '')
})

test('the overview and per-pipeline dashboards have stable uids, and the per-pipeline one a pipeline variable used by its panels', async () => {
  const overview = JSON.parse(await readFile(path.join(DASHBOARDS_DIR, 'flowhouse-overview.json'), 'utf8'))
  const perPipeline = JSON.parse(await readFile(path.join(DASHBOARDS_DIR, 'flowhouse-pipeline.json'), 'utf8'))
  assert.equal(overview.uid, 'flowhouse-overview')
  assert.equal(overview.title, 'flowhouse overview')
  assert.equal(perPipeline.uid, 'flowhouse-pipeline')
  const vars = (perPipeline.templating.list as Array<{ name: string }>).map((v) => v.name)
  assert.deepEqual(vars, ['datasource', 'pipeline', 'table'])
  const exprs = (await dashboardQueries()).filter((q) => q.source.startsWith('flowhouse-pipeline.json: panel'))
  assert.ok(exprs.filter((q) => q.expr.includes('pipeline=~"$pipeline"')).length >= 10)
  // The overview covers what the issue asks for.
  const titles = (overview.panels as Array<{ title: string }>).map((p) => p.title.toLowerCase()).join(' | ')
  for (const words of ['readiness', 'records in / out', 'dead-lettered', 'lag', 'insert latency', 'end-to-end latency', 'constraint violations', 'mv staleness']) {
    assert.ok(titles.includes(words), `overview has no "${words}" panel: ${titles}`)
  }
})

test('every metric the dashboards and alert rules use is registered in src/metrics and documented in docs/metrics.md', async () => {
  const registered = new Set((await registry.getMetricsAsJSON()).map((m) => m.name))
  const docs = await readFile(path.join(ROOT, 'docs/metrics.md'), 'utf8')
  const missing: string[] = []
  for (const q of [...(await dashboardQueries()), ...(await alertQueries())]) {
    for (const name of queryMetricNames(q)) {
      if (PROMETHEUS_SERIES.has(name)) continue
      const base = registered.has(name) ? name : baseName(name)
      if (!registered.has(base)) missing.push(`${q.source}: ${name} is not registered`)
      if (!docs.includes(`\`${base}\``)) missing.push(`${q.source}: ${base} is not in docs/metrics.md`)
    }
  }
  assert.deepEqual([...new Set(missing)], [])
})

test('metric names are read from PromQL: selectors and operands count, functions, label lists, durations and strings do not', async () => {
  const { metricNames, queryMetricNames } = await import('./queries.ts')
  assert.deepEqual(metricNames('sum by (pipeline, le) (rate(foo_seconds_bucket{pipeline=~"a|b", x="rate(y)"}[5m])) / on (pipeline) group_left bar_total offset 1h > 0'), ['bar_total', 'foo_seconds_bucket'])
  assert.deepEqual(metricNames('min without (check) (flowhouse_ready) == 0 and up{job="flowhouse"} == 1'), ['flowhouse_ready', 'up'])
  assert.deepEqual(metricNames('histogram_quantile(0.99, sum by (le) (rate(x_bucket[$__rate_interval])))'), ['x_bucket'])
  assert.deepEqual(queryMetricNames({ source: 't', kind: 'label_values', expr: 'label_values(flowhouse_records_written_total{pipeline=~"$pipeline"}, table)' }), ['flowhouse_records_written_total'])
})
