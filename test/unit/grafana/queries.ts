/**
 * Reads every PromQL expression out of the Grafana dashboards and the Prometheus alert rules,
 * and the metric names they reference. Shared by the unit tests (promtool parses them, the
 * catalog lists them) and the integration test (a running daemon exports them).
 */
import { readFile, readdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const ALERTS_FILE = path.join(ROOT, 'grafana/alerts.yml')
export const DASHBOARDS_DIR = path.join(ROOT, 'grafana/dashboards')

/** One expression and where it comes from (for failure messages). */
export interface Query {
  source: string
  expr: string
  /** Grafana template-variable queries like `label_values(metric{...}, label)` are not PromQL. */
  kind: 'promql' | 'label_values'
}

interface Panel {
  title?: string
  targets?: Array<{ expr?: string }>
  panels?: Panel[]
}

/** Every expression of every dashboard (panel targets and template variables). */
export async function dashboardQueries(): Promise<Query[]> {
  const out: Query[] = []
  for (const file of (await readdir(DASHBOARDS_DIR)).filter((f) => f.endsWith('.json')).sort()) {
    const dash = JSON.parse(await readFile(path.join(DASHBOARDS_DIR, file), 'utf8')) as { panels?: Panel[]; templating?: { list?: Array<{ name: string; type: string; query?: unknown; definition?: string }> } }
    const walk = (panels: Panel[] | undefined) => {
      for (const p of panels ?? []) {
        for (const t of p.targets ?? []) if (t.expr) out.push({ source: `${file}: panel "${p.title}"`, expr: t.expr, kind: 'promql' })
        walk(p.panels)
      }
    }
    walk(dash.panels)
    for (const v of dash.templating?.list ?? []) {
      if (v.type !== 'query') continue
      const q = typeof v.query === 'string' ? v.query : ((v.query as { query?: string } | undefined)?.query ?? v.definition ?? '')
      out.push({ source: `${file}: variable $${v.name}`, expr: q, kind: 'label_values' })
    }
  }
  return out
}

/** Every alert expression of grafana/alerts.yml. */
export async function alertQueries(): Promise<Query[]> {
  const doc = parse(await readFile(ALERTS_FILE, 'utf8')) as { groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }> }
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ source: `alerts.yml: ${r.alert ?? r.record}`, expr: String(r.expr), kind: 'promql' as const })))
}

/** Grafana variables replaced by values Prometheus accepts. */
export function substituteGrafanaVariables(expr: string, values: { pipeline?: string; table?: string } = {}): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '1h')
    .replaceAll('$pipeline', values.pipeline ?? '.*')
    .replaceAll('$table', values.table ?? '.*')
}

/** Series Prometheus itself creates for a scrape target; they are not flowhouse's to export. */
export const PROMETHEUS_SERIES = new Set(['up'])

/**
 * Metric names an expression references: identifiers outside quoted strings that are followed
 * by a selector (`{`, `[`) or stand alone as an operand — function names, aggregation keywords
 * and label lists (`by (...)`) are excluded.
 */
export function metricNames(expr: string): string[] {
  const text = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}')
  const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'label_values'])
  const names = new Set<string>()
  // Drop label lists after by/without/on/ignoring/group_left/group_right.
  const stripped = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = m[0]
    const after = stripped.slice(m.index! + name.length).trimStart()
    const before = stripped.slice(0, m.index!)
    if (keywords.has(name.toLowerCase())) continue
    if (after.startsWith('(')) continue // a function or aggregation
    if (/[0-9.]$/.test(before)) continue // part of a duration like 5m or a number like 1e3
    if (/\$\w*$/.test(before)) continue
    names.add(name)
  }
  return [...names].sort()
}

/** Metric names of a dashboard or alert query (for `label_values(metric{...}, label)`, the metric). */
export function queryMetricNames(q: Query): string[] {
  if (q.kind === 'promql') return metricNames(q.expr)
  const m = /^\s*label_values\(\s*(.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/s.exec(q.expr)
  if (!m) throw new Error(`${q.source}: not a label_values(metric, label) query: ${q.expr}`)
  return metricNames(m[1]!)
}

/** The histogram base name of `x_bucket`, `x_sum`, `x_count`; other names unchanged. */
export function baseName(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '')
}
