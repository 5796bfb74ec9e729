/**
 * Generates the Grafana dashboards in grafana/dashboards/ (dashboards as code):
 *   npx tsx scripts/grafana-dashboards.ts          writes the JSON files
 *   npx tsx scripts/grafana-dashboards.ts --check  exits 1 when a file differs from what it would write
 * Every query uses metrics from src/metrics/metrics.ts (catalog: docs/metrics.md); the test
 * test/integration/ops/observability.test.ts checks that each one exists on a running daemon.
 */
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DS = { type: 'prometheus', uid: '${datasource}' }
const RATE = '$__rate_interval'

interface Target {
  expr: string
  legend?: string
}

type Unit = 'short' | 'ops' | 'Bps' | 's' | 'bytes' | 'percentunit' | 'none'

interface PanelSpec {
  title: string
  description: string
  kind?: 'timeseries' | 'stat'
  unit?: Unit
  targets: Target[]
  w?: number
  h?: number
  /** Stat panels: value mappings 0/1 → text. */
  readiness?: boolean
  stack?: boolean
}

let nextId = 1

function panel(spec: PanelSpec, x: number, y: number): Record<string, unknown> {
  const kind = spec.kind ?? 'timeseries'
  const w = spec.w ?? 12
  const h = spec.h ?? 8
  const targets = spec.targets.map((t, i) => ({
    datasource: DS,
    expr: t.expr,
    legendFormat: t.legend ?? '__auto',
    range: true,
    refId: String.fromCharCode(65 + i),
  }))
  const base = { id: nextId++, type: kind, title: spec.title, description: spec.description, datasource: DS, gridPos: { h, w, x, y }, targets }
  if (kind === 'stat') {
    return {
      ...base,
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'value_and_name', justifyMode: 'auto', orientation: 'auto' },
      fieldConfig: {
        defaults: {
          unit: spec.unit ?? 'none',
          mappings: spec.readiness
            ? [{ type: 'value', options: { '0': { text: 'not ready', color: 'red', index: 0 }, '1': { text: 'ready', color: 'green', index: 1 } } }]
            : [],
          thresholds: spec.readiness
            ? { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }] }
            : { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 1 }] },
        },
        overrides: [],
      },
    }
  }
  return {
    ...base,
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    fieldConfig: {
      defaults: {
        unit: spec.unit ?? 'short',
        min: 0,
        custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: spec.stack ? 30 : 10, showPoints: 'never', spanNulls: false, stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' } },
      },
      overrides: [],
    },
  }
}

function row(title: string, y: number): Record<string, unknown> {
  return { id: nextId++, type: 'row', title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] }
}

/** Lays out rows of panels left to right, wrapping at 24 columns. */
function layout(sections: Array<{ row: string; panels: PanelSpec[] }>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  let y = 0
  for (const section of sections) {
    out.push(row(section.row, y))
    y += 1
    let x = 0
    let rowHeight = 0
    for (const spec of section.panels) {
      const w = spec.w ?? 12
      if (x + w > 24) {
        y += rowHeight
        x = 0
        rowHeight = 0
      }
      out.push(panel(spec, x, y))
      x += w
      rowHeight = Math.max(rowHeight, spec.h ?? 8)
    }
    y += rowHeight
  }
  return out
}

const datasourceVar = {
  name: 'datasource',
  label: 'Prometheus',
  type: 'datasource',
  query: 'prometheus',
  current: {},
  hide: 0,
  refresh: 1,
  regex: '',
  options: [],
}

function queryVar(name: string, label: string, query: string, includeAll: boolean): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource: DS,
    definition: query,
    query: { query, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 },
    refresh: 2,
    includeAll,
    multi: includeAll,
    allValue: includeAll ? '.*' : undefined,
    current: {},
    hide: 0,
    sort: 1,
    regex: '',
    options: [],
  }
}

function dashboard(uid: string, title: string, description: string, variables: Record<string, unknown>[], panels: Record<string, unknown>[]): Record<string, unknown> {
  return {
    uid,
    title,
    description,
    tags: ['flowhouse'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    schemaVersion: 39,
    version: 1,
    templating: { list: variables },
    annotations: { list: [] },
    links: [{ title: 'flowhouse dashboards', type: 'dashboards', tags: ['flowhouse'], asDropdown: true }],
    panels,
  }
}

const q = (quantile: number, metric: string, by: string, selector = '') =>
  `histogram_quantile(${quantile}, sum by (${by}) (rate(${metric}_bucket${selector}[${RATE}])))`

function overview(): Record<string, unknown> {
  nextId = 1
  return dashboard(
    'flowhouse-overview',
    'flowhouse overview',
    'Throughput, dead letters, lag, latency, constraints, materialized views and readiness of every pipeline.',
    [datasourceVar],
    layout([
      {
        row: 'Readiness',
        panels: [
          { title: 'Readiness by check', description: 'flowhouse_ready: 1 when the /ready check passes, 0 when it fails (kafka, clickhouse, consumers, modules, partitions).', kind: 'stat', readiness: true, w: 8, h: 5, targets: [{ expr: 'min by (check) (flowhouse_ready)', legend: '{{check}}' }] },
          { title: 'Pipelines running', description: 'Pipeline modules loaded and running.', kind: 'stat', w: 4, h: 5, unit: 'none', targets: [{ expr: 'sum(flowhouse_pipelines_loaded)' }] },
          { title: 'Modules failing', description: 'Pipeline modules that failed to load or check (see /ready and /api/pipelines).', kind: 'stat', w: 4, h: 5, unit: 'none', targets: [{ expr: 'sum(flowhouse_module_load_errors)' }] },
          { title: 'Paused partitions', description: 'Partitions waiting on retried ClickHouse inserts.', kind: 'stat', w: 4, h: 5, unit: 'none', targets: [{ expr: 'sum(flowhouse_paused_partitions)' }] },
          { title: 'Stalled partitions', description: 'Partitions with lag whose committed offset has not moved for FLOWHOUSE_STALL_SECONDS (flowhouse_partition_stalled); /ready names them.', kind: 'stat', w: 4, h: 5, unit: 'none', targets: [{ expr: 'sum(flowhouse_partition_stalled)' }] },
        ],
      },
      {
        row: 'Throughput',
        panels: [
          { title: 'Records in / out per second', description: 'Records consumed from ingest topics and rows acknowledged by ClickHouse.', unit: 'ops', targets: [
            { expr: `sum by (pipeline) (rate(flowhouse_records_consumed_total[${RATE}]))`, legend: 'in {{pipeline}}' },
            { expr: `sum by (pipeline) (rate(flowhouse_records_written_total[${RATE}]))`, legend: 'written {{pipeline}}' },
          ] },
          { title: 'Bytes in per second', description: 'Bytes of Kafka message values consumed.', unit: 'Bps', targets: [{ expr: `sum by (pipeline) (rate(flowhouse_bytes_in_total[${RATE}]))`, legend: '{{pipeline}}' }] },
          { title: 'Dead-lettered records per second by stage', description: 'Records sent to <pipeline>.dlq, by the stage that refused them (decode, validation, constraint, transform, insert).', unit: 'ops', stack: true, targets: [{ expr: `sum by (stage) (rate(flowhouse_records_dead_lettered_total[${RATE}]))`, legend: '{{stage}}' }] },
          { title: 'Filtered, dropped and produced records per second', description: 'Records a transform filtered out, records a constraint with action drop removed, and records sent on to other streams.', unit: 'ops', targets: [
            { expr: `sum by (pipeline) (rate(flowhouse_records_filtered_total[${RATE}]))`, legend: 'filtered {{pipeline}}' },
            { expr: `sum by (pipeline) (rate(flowhouse_records_dropped_total[${RATE}]))`, legend: 'dropped {{pipeline}}' },
            { expr: `sum by (pipeline) (rate(flowhouse_records_produced_total[${RATE}]))`, legend: 'produced {{pipeline}}' },
          ] },
        ],
      },
      {
        row: 'Lag',
        panels: [
          { title: 'Consumer lag (messages)', description: 'Messages after each consumer group\'s committed offset, summed over partitions.', unit: 'short', w: 24, targets: [{ expr: 'sum by (pipeline) (flowhouse_consumer_lag_messages)', legend: '{{pipeline}}' }] },
        ],
      },
      {
        row: 'Latency',
        panels: [
          { title: 'ClickHouse insert latency p50 / p99', description: 'Time of one INSERT of a partition batch.', unit: 's', targets: [
            { expr: q(0.5, 'flowhouse_clickhouse_insert_duration_seconds', 'le'), legend: 'p50' },
            { expr: q(0.99, 'flowhouse_clickhouse_insert_duration_seconds', 'le'), legend: 'p99' },
          ] },
          { title: 'End-to-end latency p50 / p99', description: 'From the Kafka message timestamp to the insert acknowledgement (oldest message of each batch).', unit: 's', targets: [
            { expr: q(0.5, 'flowhouse_end_to_end_latency_seconds', 'le'), legend: 'p50' },
            { expr: q(0.99, 'flowhouse_end_to_end_latency_seconds', 'le'), legend: 'p99' },
          ] },
          { title: 'Insert retries and errors by code', description: 'Retried inserts (retriable ClickHouse errors: the partition waits) and failed insert attempts (rows refused, or errors that stop the partition).', unit: 'ops', targets: [
            { expr: `sum by (code) (rate(flowhouse_clickhouse_insert_retries_total[${RATE}]))`, legend: 'retry {{code}}' },
            { expr: `sum by (code) (rate(flowhouse_clickhouse_insert_errors_total[${RATE}]))`, legend: 'error {{code}}' },
          ] },
          { title: 'Transform latency p50 / p99', description: 'Decode, validation and transforms of one Kafka message in a worker.', unit: 's', targets: [
            { expr: q(0.5, 'flowhouse_transform_duration_seconds', 'le'), legend: 'p50' },
            { expr: q(0.99, 'flowhouse_transform_duration_seconds', 'le'), legend: 'p99' },
          ] },
        ],
      },
      {
        row: 'Constraints',
        panels: [
          { title: 'Constraint violations per second', description: 'Violations by pipeline, constraint, type (rate, validation, resource) and action (throttle, dead_letter, drop, rejected).', unit: 'ops', stack: true, targets: [{ expr: `sum by (pipeline, constraint, type, action) (rate(flowhouse_constraint_violations_total[${RATE}]))`, legend: '{{pipeline}} {{constraint}} {{type}} → {{action}}' }] },
          { title: 'Constraint checks and throttling', description: 'Constraint evaluations per second, and seconds per second partitions spent throttled by rate constraints.', unit: 'short', targets: [
            { expr: `sum by (constraint) (rate(flowhouse_constraint_checks_total[${RATE}]))`, legend: 'checks/s {{constraint}}' },
            { expr: `sum by (constraint) (rate(flowhouse_constraint_throttle_seconds_total[${RATE}]))`, legend: 'throttled s/s {{constraint}}' },
          ] },
        ],
      },
      {
        row: 'Materialized views',
        panels: [
          { title: 'MV staleness', description: 'Seconds since each materialized view was last refreshed (scheduled and manual views).', unit: 's', targets: [{ expr: 'max by (view) (flowhouse_mv_staleness_seconds)', legend: '{{view}}' }] },
          { title: 'MV refresh duration p99', description: 'Duration of materialized view refreshes.', unit: 's', targets: [{ expr: q(0.99, 'flowhouse_mv_refresh_duration_seconds', 'le, view'), legend: '{{view}}' }] },
        ],
      },
    ]),
  )
}

function perPipeline(): Record<string, unknown> {
  nextId = 1
  const p = '{pipeline=~"$pipeline"}'
  const t = '{table=~"$table"}'
  return dashboard(
    'flowhouse-pipeline',
    'flowhouse pipeline',
    'One pipeline: records in and out, dead letters by stage, lag per partition, latency, inserts and its tables.',
    [
      datasourceVar,
      queryVar('pipeline', 'Pipeline', 'label_values(flowhouse_records_consumed_total, pipeline)', false),
      queryVar('table', 'Table', 'label_values(flowhouse_records_written_total{pipeline=~"$pipeline"}, table)', true),
    ],
    layout([
      {
        row: 'Records',
        panels: [
          { title: 'Consumed, written, filtered, dead-lettered per second', description: 'Every consumed record is written, dead-lettered or filtered.', unit: 'ops', targets: [
            { expr: `sum(rate(flowhouse_records_consumed_total${p}[${RATE}]))`, legend: 'consumed' },
            { expr: `sum(rate(flowhouse_records_written_total${p}[${RATE}]))`, legend: 'written' },
            { expr: `sum(rate(flowhouse_records_filtered_total${p}[${RATE}]))`, legend: 'filtered' },
            { expr: `sum(rate(flowhouse_records_dead_lettered_total${p}[${RATE}]))`, legend: 'dead-lettered' },
            { expr: `sum(rate(flowhouse_records_dropped_total${p}[${RATE}]))`, legend: 'dropped by constraints' },
          ] },
          { title: 'Dead-lettered per second by stage', description: 'Records sent to the DLQ topic, by stage.', unit: 'ops', stack: true, targets: [{ expr: `sum by (stage) (rate(flowhouse_records_dead_lettered_total${p}[${RATE}]))`, legend: '{{stage}}' }] },
          { title: 'Written per second by table', description: 'Rows acknowledged by ClickHouse, per destination table.', unit: 'ops', targets: [{ expr: `sum by (table) (rate(flowhouse_records_written_total${p}[${RATE}]))`, legend: '{{table}}' }] },
          { title: 'Bytes and messages in per second', description: 'Kafka message values consumed.', unit: 'short', targets: [
            { expr: `sum(rate(flowhouse_bytes_in_total${p}[${RATE}]))`, legend: 'bytes/s' },
            { expr: `sum(rate(flowhouse_messages_consumed_total${p}[${RATE}]))`, legend: 'messages/s' },
          ] },
          { title: 'Ingest API requests per second by status', description: 'POST /ingest/<pipeline> by HTTP status code, and records accepted.', unit: 'ops', targets: [
            { expr: `sum by (code) (rate(flowhouse_ingest_requests_total${p}[${RATE}]))`, legend: '{{code}}' },
            { expr: `sum(rate(flowhouse_ingest_records_total${p}[${RATE}]))`, legend: 'records accepted' },
          ] },
          { title: 'Batches flushed per second', description: 'Partition batches flushed and committed.', unit: 'ops', targets: [{ expr: `sum(rate(flowhouse_batches_flushed_total${p}[${RATE}]))`, legend: 'batches' }] },
        ],
      },
      {
        row: 'Lag and pauses',
        panels: [
          { title: 'Consumer lag per partition', description: 'High watermark minus committed offset, per partition.', unit: 'short', targets: [{ expr: `sum by (topic, partition) (flowhouse_consumer_lag_messages${p})`, legend: '{{topic}}[{{partition}}]' }] },
          { title: 'Consumed offsets per second', description: 'Rate of the committed offsets versus the high watermarks (messages per second).', unit: 'ops', targets: [
            { expr: `sum(rate(flowhouse_consumer_committed_offset${p}[${RATE}]))`, legend: 'committed' },
            { expr: `sum(rate(flowhouse_topic_high_watermark${p}[${RATE}]))`, legend: 'produced' },
          ] },
          { title: 'Paused partitions', description: 'Partitions waiting on retried ClickHouse inserts.', unit: 'none', targets: [{ expr: `sum(flowhouse_paused_partitions${p})`, legend: 'paused' }] },
          { title: 'Stalled partitions', description: 'flowhouse_partition_stalled: 1 while a partition has lag and its committed offset has not moved for FLOWHOUSE_STALL_SECONDS (the /ready detail names its oldest pending offset).', unit: 'none', targets: [{ expr: `max by (partition) (flowhouse_partition_stalled${p})`, legend: 'partition {{partition}}' }] },
        ],
      },
      {
        row: 'Latency',
        panels: [
          { title: 'Transform latency p50 / p99', description: 'Decode, validation and transforms of one message.', unit: 's', targets: [
            { expr: q(0.5, 'flowhouse_transform_duration_seconds', 'le', p), legend: 'p50' },
            { expr: q(0.99, 'flowhouse_transform_duration_seconds', 'le', p), legend: 'p99' },
          ] },
          { title: 'End-to-end latency p50 / p99', description: 'From the Kafka message timestamp to the insert acknowledgement.', unit: 's', targets: [
            { expr: q(0.5, 'flowhouse_end_to_end_latency_seconds', 'le', p), legend: 'p50' },
            { expr: q(0.99, 'flowhouse_end_to_end_latency_seconds', 'le', p), legend: 'p99' },
          ] },
        ],
      },
      {
        row: 'Constraints',
        panels: [
          { title: 'Violations per second by constraint and action', description: 'Constraint violations of this pipeline.', unit: 'ops', stack: true, targets: [{ expr: `sum by (constraint, type, action) (rate(flowhouse_constraint_violations_total${p}[${RATE}]))`, legend: '{{constraint}} {{type}} → {{action}}' }] },
          { title: 'Checks per second and throttled seconds per second', description: 'Records evaluated by each constraint, and time consumption waited on it.', unit: 'short', targets: [
            { expr: `sum by (constraint) (rate(flowhouse_constraint_checks_total${p}[${RATE}]))`, legend: 'checks/s {{constraint}}' },
            { expr: `sum by (constraint) (rate(flowhouse_constraint_throttle_seconds_total${p}[${RATE}]))`, legend: 'throttled s/s {{constraint}}' },
          ] },
        ],
      },
      {
        row: 'ClickHouse inserts ($table)',
        panels: [
          { title: 'Insert latency p50 / p99', description: 'One INSERT per table per partition batch.', unit: 's', targets: [
            { expr: q(0.5, 'flowhouse_clickhouse_insert_duration_seconds', 'le, table', t), legend: 'p50 {{table}}' },
            { expr: q(0.99, 'flowhouse_clickhouse_insert_duration_seconds', 'le, table', t), legend: 'p99 {{table}}' },
          ] },
          { title: 'Rows and bytes per insert (p50)', description: 'Batch size histograms.', unit: 'short', targets: [
            { expr: q(0.5, 'flowhouse_batch_rows', 'le, table', t), legend: 'rows {{table}}' },
            { expr: q(0.5, 'flowhouse_batch_bytes', 'le, table', t), legend: 'bytes {{table}}' },
          ] },
          { title: 'Insert retries and errors by code', description: 'Retriable errors make the partition wait; errors are failed attempts.', unit: 'ops', w: 24, targets: [
            { expr: `sum by (table, code) (rate(flowhouse_clickhouse_insert_retries_total${t}[${RATE}]))`, legend: 'retry {{table}} {{code}}' },
            { expr: `sum by (table, code) (rate(flowhouse_clickhouse_insert_errors_total${t}[${RATE}]))`, legend: 'error {{table}} {{code}}' },
          ] },
        ],
      },
    ]),
  )
}

const files: Record<string, Record<string, unknown>> = {
  'grafana/dashboards/flowhouse-overview.json': overview(),
  'grafana/dashboards/flowhouse-pipeline.json': perPipeline(),
}

const check = process.argv.includes('--check')
let stale = 0
for (const [file, json] of Object.entries(files)) {
  const text = JSON.stringify(json, null, 2) + '\n'
  const target = path.join(root, file)
  if (check) {
    const current = await readFile(target, 'utf8').catch(() => '')
    if (current !== text) {
      console.error(`${file} is out of date: run npx tsx scripts/grafana-dashboards.ts`)
      stale++
    }
  } else {
    await writeFile(target, text)
    console.log(`wrote ${file}`)
  }
}
process.exit(stale > 0 ? 1 : 0)
