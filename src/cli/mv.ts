/**
 * `flowhouse mv ...`: the materialized-view API from the command line (contract seeds/003 "Mix
 * Task"). Every subcommand calls a running daemon's `/api/mv` (like `flowhouse sql`):
 *
 *   flowhouse mv list
 *   flowhouse mv create --name N --source T --query "SELECT ... FROM {source_table} ..." --order-by a,b [--engine E] [--columns a:String,b:UInt64] ...
 *   flowhouse mv create --file view.json          (the POST /api/mv body)
 *   flowhouse mv status NAME [--watch]
 *   flowhouse mv backfill NAME
 *   flowhouse mv refresh NAME [--full]
 *   flowhouse mv query NAME [--select ...] [--filter ...] [--group-by ...] [--having ...] [--order-by ...] [--limit N]
 *   flowhouse mv drop NAME
 */
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { Command, InvalidArgumentError } from 'commander'
import { apiTarget, callApi, DEFAULT_URL, type ApiTarget } from './api.ts'
import { positiveInt } from './args.ts'
import { printTable } from './table.ts'

export { callApi }

function print(value: unknown, format: string): void {
  if (format === 'json' || !Array.isArray(value)) console.log(JSON.stringify(value, null, 2))
  else printTable(value as Array<Record<string, unknown>>)
}

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter(Boolean)
}

function columns(value: string | undefined): Array<{ name: string; type: string }> | undefined {
  if (value === undefined) return undefined
  return value.split(/,(?![^(]*\))/).map((pair) => {
    const at = pair.indexOf(':')
    if (at <= 0) throw new InvalidArgumentError(`columns: "${pair}" is not name:Type`)
    return { name: pair.slice(0, at).trim(), type: pair.slice(at + 1).trim() }
  })
}

interface CreateOptions {
  file?: string
  name?: string
  source?: string
  query?: string
  engine?: string
  orderBy?: string
  columns?: string
  target?: string
  cluster?: string
  refresh?: string
  schedule?: string
  timezone?: string
  strategy?: string
  grace?: string
  watermark?: string
  backfill: boolean
  batchRows?: number
}

/** Commander collector of a repeatable option. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

const conjunction = (parts: string[]): string => (parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(' AND '))

/**
 * The POST /api/mv/:name/query body from repeatable options: `--select a --select b` keeps both
 * (`a, b`), filters and havings are joined with AND, group-by and order-by items with commas.
 */
export function queryBody(o: { select?: string[]; filter?: string[]; groupBy?: string[]; having?: string[]; orderBy?: string[]; limit?: number }): Record<string, unknown> {
  const has = (v: string[] | undefined): v is string[] => v !== undefined && v.length > 0
  return {
    ...(has(o.select) ? { select: o.select.join(', ') } : {}),
    ...(has(o.filter) ? { filter: conjunction(o.filter) } : {}),
    ...(has(o.groupBy) ? { group_by: o.groupBy.join(', ') } : {}),
    ...(has(o.having) ? { having: conjunction(o.having) } : {}),
    ...(has(o.orderBy) ? { order_by: o.orderBy.join(', ') } : {}),
    ...(o.limit ? { limit: o.limit } : {}),
  }
}

/** The POST /api/mv body from the create options. */
export function createBody(o: CreateOptions): Record<string, unknown> {
  const refresh =
    o.refresh || o.schedule || o.strategy || o.grace
      ? { ...(o.refresh ? { mode: o.refresh } : {}), ...(o.schedule ? { schedule: o.schedule } : {}), ...(o.timezone ? { timezone: o.timezone } : {}), ...(o.strategy ? { strategy: o.strategy } : {}), ...(o.grace ? { grace_period: o.grace } : {}) }
      : undefined
  return {
    name: o.name,
    source_table: o.source,
    select_query: o.query,
    ...(o.engine ? { engine: o.engine } : {}),
    ...(o.orderBy ? { order_by: list(o.orderBy) } : {}),
    ...(o.columns ? { columns: columns(o.columns) } : {}),
    ...(o.target ? { target_table: o.target } : {}),
    ...(o.cluster ? { cluster: o.cluster } : {}),
    ...(refresh ? { refresh } : {}),
    ...(o.watermark ? { watermark: o.watermark } : {}),
    ...(o.backfill === false ? { backfill: false } : {}),
    ...(o.batchRows ? { batch_rows: o.batchRows } : {}),
  }
}

/**
 * Adds the `mv` command and its subcommands to the program.
 * @param apiKey the program's `--api-key` flag, if given (FLOWHOUSE_API_KEY otherwise).
 */
export function registerMvCommands(program: Command, apiKey: () => string | undefined = () => undefined): void {
  const mv = program.command('mv').description("manage materialized views through a running daemon's /api/mv")
  const url = (o: { url?: string }): ApiTarget => apiTarget({ ...(o.url ? { url: o.url } : {}), ...(apiKey() ? { apiKey: apiKey()! } : {}) })
  const withUrl = (c: Command): Command => c.option('--url <url>', `daemon URL (env FLOWHOUSE_URL, default ${DEFAULT_URL})`).option('--format <fmt>', 'table | json', 'table')

  withUrl(mv.command('list').description('list views with their job status and freshness')).action(async (o: { url?: string; format: string }) => {
    print((await callApi(url(o), 'GET', '/api/mv')).views, o.format)
  })

  withUrl(
    mv
      .command('create')
      .description('create a view; existing rows of the source are backfilled (two-phase, resumable)')
      .option('--file <path>', 'JSON file with the POST /api/mv body (other options are ignored)')
      .option('--name <name>', 'view name')
      .option('--source <table>', 'source table')
      .option('--query <sql>', 'SELECT reading {source_table}')
      .option('--engine <engine>', 'MergeTree | SummingMergeTree | AggregatingMergeTree | ReplacingMergeTree', 'MergeTree')
      .option('--order-by <cols>', 'ORDER BY columns of the target, comma-separated')
      .option('--columns <list>', 'target columns name:Type,... (inferred when absent)')
      .option('--target <table>', 'target table (default <name>_data)')
      .option('--cluster <name>', "cluster name or 'auto'")
      .option('--refresh <mode>', 'streaming | scheduled | manual (default streaming)')
      .option('--schedule <cron>', 'cron expression of a scheduled view')
      .option('--timezone <tz>', 'time zone of the schedule (default UTC)')
      .option('--strategy <s>', 'replace | append (scheduled and manual views)')
      .option('--grace <duration>', "grace period, e.g. '15m'")
      .option('--watermark <column>', 'backfill cutoff column (default: insert order)')
      .option('--no-backfill', 'create without backfilling (status pending; start it with mv backfill)')
      .option('--batch-rows <n>', 'source rows per backfill batch', positiveInt),
  ).action(async (o: CreateOptions & { url?: string; format: string }) => {
    const body = o.file ? JSON.parse(await readFile(o.file, 'utf8')) : createBody(o)
    print((await callApi(url(o), 'POST', '/api/mv', body)).job, 'json')
  })

  withUrl(
    mv
      .command('status')
      .description('job, progress, freshness, refresh log, metadata and statistics of a view')
      .argument('<name>')
      .option('--watch', 'repeat every second until the job is completed or failed'),
  ).action(async (name: string, o: { url?: string; format: string; watch?: boolean }) => {
    for (;;) {
      const details = await callApi(url(o), 'GET', `/api/mv/${encodeURIComponent(name)}`)
      const job = details.job as { status: string; progress_percent: number; processed_rows: number; total_rows: number }
      if (o.watch) console.log(`${new Date().toISOString()} ${name}: ${job.status} ${job.progress_percent}% (${job.processed_rows}/${job.total_rows} rows)`)
      if (!o.watch || job.status === 'completed' || job.status === 'failed') {
        if (!o.watch || o.format === 'json') print(details, 'json')
        return
      }
      await sleep(1_000)
    }
  })

  withUrl(mv.command('backfill').description('start or resume the backfill of a view').argument('<name>')).action(async (name: string, o: { url?: string }) => {
    const { job } = (await callApi(url(o), 'GET', `/api/mv/${encodeURIComponent(name)}`)) as { job?: { status?: string } }
    if (job?.status === 'completed') throw new Error(`view "${name}" is already backfilled; \`flowhouse mv refresh ${name} --full\` rebuilds it`)
    print((await callApi(url(o), 'POST', `/api/mv/${encodeURIComponent(name)}/backfill`, {})).job, 'json')
  })

  withUrl(mv.command('refresh').description('refresh a view now').argument('<name>').option('--full', 'force a full refresh (rebuild)')).action(async (name: string, o: { url?: string; full?: boolean }) => {
    print(await callApi(url(o), 'POST', `/api/mv/${encodeURIComponent(name)}/refresh${o.full ? '?full=true' : ''}`, {}), 'json')
  })

  withUrl(
    mv
      .command('query')
      .description('query a view: values are bound as parameters, identifiers checked against its columns, read-only')
      .argument('<name>')
      .option('--select <items>', "e.g. 'origin, sum(flights) AS flights' (repeatable: items are joined with commas)", collect, [])
      .option('--filter <expr>', "e.g. \"origin = 'SFO' AND day >= '2001-03-01'\" (repeatable: joined with AND)", collect, [])
      .option('--group-by <cols>', 'e.g. origin (repeatable)', collect, [])
      .option('--having <expr>', 'e.g. flights > 1000 (repeatable: joined with AND)', collect, [])
      .option('--order-by <items>', 'e.g. flights DESC (repeatable)', collect, [])
      .option('--limit <n>', 'rows (default 1000)', positiveInt),
  ).action(async (name: string, o: { url?: string; format: string; select: string[]; filter: string[]; groupBy: string[]; having: string[]; orderBy: string[]; limit?: number }) => {
    const body = queryBody(o)
    print((await callApi(url(o), 'POST', `/api/mv/${encodeURIComponent(name)}/query`, body)).rows, o.format)
  })

  withUrl(mv.command('drop').description('drop a view: MV, target, Distributed table and job record').argument('<name>')).action(async (name: string, o: { url?: string }) => {
    print(await callApi(url(o), 'DELETE', `/api/mv/${encodeURIComponent(name)}`), 'json')
  })
}
