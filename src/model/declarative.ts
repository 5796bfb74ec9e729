/**
 * Declarative views and refresh options: the rules, and the SQL a declarative view stands for.
 *
 * A declarative view `{ name, from, filter?, groupBy, compute }` becomes (contract, seeds/002
 * "Aggregation Functions"):
 *   - a target table `<name>_state` (AggregatingMergeTree, ORDER BY the groupBy keys) holding one
 *     aggregate-function state per computed column — avg as two states, a sum and a count;
 *   - the SELECT that produces those states from the source (the MV's SELECT, also used to backfill);
 *   - a VIEW `<name>` that merges the states, which is what users query.
 * count, sum, min, max and avg are incremental, so the MV trigger can keep the view current;
 * first, last, stddev and variance need a full refresh, so a view using them is scheduled or
 * manual — never streaming.
 */
import { Cron } from 'croner'
import type { TSchema } from '@sinclair/typebox'
import { backquote } from '../util/backquote.ts'
import { configError, describe, quoteList, type Owner, type Subject } from './config-error.ts'
import { fieldAtPath, fieldPaths, listPaths } from './paths.ts'
import type { ComputeInput, ViewRefreshOptions } from './options.ts'
import type { ComputeDef, ComputeFunction, DeclarativeView, RefreshMode, RefreshStrategy, ViewRefreshConfig } from './types.ts'

/** Functions the MV trigger can maintain: their states merge exactly (avg as sum and count). */
export const INCREMENTAL_FUNCTIONS: readonly ComputeFunction[] = ['count', 'sum', 'min', 'max', 'avg']
/** Functions that need a full refresh (contract: first, last, stddev, variance). */
export const FULL_REFRESH_FUNCTIONS: readonly ComputeFunction[] = ['first', 'last', 'stddev', 'variance']
const FUNCTIONS: readonly ComputeFunction[] = [...INCREMENTAL_FUNCTIONS, ...FULL_REFRESH_FUNCTIONS]
const MODES: readonly RefreshMode[] = ['streaming', 'scheduled', 'manual']
const STRATEGIES: readonly RefreshStrategy[] = ['replace', 'append']

/** Units of a grace-period text, in seconds. */
const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3_600, d: 86_400 }

/**
 * Seconds of a duration given as a number of seconds or as text: '900', '15m', '1h', '30s', '2d', '500ms'.
 * @returns undefined when the value is not a non-negative duration.
 */
export function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined
  if (typeof value !== 'string') return undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value)
  return m ? Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] as number) : undefined
}

/**
 * Checks and defaults refresh options (contract: streaming by default; scheduled takes a cron
 * expression and a time zone, with strategy replace or append; manual refreshes on request).
 * @param defaultMode the mode when `refresh.mode` is absent.
 * @throws ConfigError naming the option: unknown mode or strategy, a scheduled view without a
 *   valid cron expression, an unknown time zone, a bad grace period, or a schedule on a
 *   non-scheduled view.
 */
export function normalizeRefresh(owner: Owner, input: ViewRefreshOptions | undefined, defaultMode: RefreshMode = 'streaming'): ViewRefreshConfig {
  if (input !== undefined && (typeof input !== 'object' || input === null)) {
    throw configError(owner, { option: 'refresh' }, 'view', `must be an object (got ${describe(input)})`, "pass refresh: { mode: 'streaming' | 'scheduled' | 'manual', schedule?, timezone?, strategy?, gracePeriod? }")
  }
  const mode = input?.mode ?? defaultMode
  if (!MODES.includes(mode)) {
    throw configError(owner, { option: 'refresh.mode' }, 'view', `must be one of ${quoteList(MODES)} (got ${describe(mode)})`, "use 'streaming' (ClickHouse's MV trigger), 'scheduled' (cron) or 'manual'")
  }
  const timezone = input?.timezone ?? 'UTC'
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone })
  } catch {
    throw configError(owner, { option: 'refresh.timezone' }, 'view', `unknown time zone ${describe(timezone)}`, "use an IANA name such as 'UTC' or 'Europe/Paris'")
  }
  const strategy = input?.strategy ?? 'replace'
  if (!STRATEGIES.includes(strategy)) {
    throw configError(owner, { option: 'refresh.strategy' }, 'view', `must be "replace" or "append" (got ${describe(strategy)})`, "use 'replace' (rebuild and swap atomically) or 'append' (add the rows inserted since the last refresh)")
  }
  const gracePeriodSeconds = parseDurationSeconds(input?.gracePeriod ?? 0)
  if (gracePeriodSeconds === undefined) {
    throw configError(owner, { option: 'refresh.gracePeriod' }, 'view', `must be a number of seconds or a duration such as '15m' (got ${describe(input?.gracePeriod)})`, "e.g. gracePeriod: '15m' or gracePeriod: 900")
  }
  const result: ViewRefreshConfig = { mode, timezone, strategy, gracePeriodSeconds }
  if (mode === 'scheduled') {
    const schedule = input?.schedule
    if (typeof schedule !== 'string' || schedule.trim() === '') {
      throw configError(owner, { option: 'refresh.schedule' }, 'view', `a scheduled view needs a cron expression (got ${describe(schedule)})`, "e.g. schedule: '0 * * * *' (hourly) or '*/10 * * * * *' (every 10 seconds)")
    }
    try {
      new Cron(schedule, { timezone, paused: true }).stop()
    } catch (error) {
      throw configError(owner, { option: 'refresh.schedule' }, 'view', `${describe(schedule)} is not a cron expression (${(error as Error).message})`, "use 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. '*/5 * * * *'")
    }
    result.schedule = schedule.trim()
  } else if (input?.schedule !== undefined) {
    throw configError(owner, { option: 'refresh.schedule' }, 'view', `a schedule only applies to scheduled views (mode is "${mode}")`, "set refresh.mode: 'scheduled', or remove the schedule")
  }
  if (mode === 'streaming' && input?.strategy !== undefined) {
    throw configError(owner, { option: 'refresh.strategy' }, 'view', 'a strategy only applies to scheduled and manual views (a streaming view is kept current by the MV trigger)', "set refresh.mode: 'scheduled' or 'manual', or remove the strategy")
  }
  return result
}

function computeDef(owner: Owner, name: string, input: ComputeInput | undefined, defaultBy: string | undefined): ComputeDef {
  checkOutputName(owner, { option: `compute.${name}` }, name, 'computed column names')
  const entries = typeof input === 'object' && input !== null ? Object.entries(input).filter(([k]) => k !== 'by') : []
  const [fn, column] = entries[0] ?? []
  if (entries.length !== 1 || !FUNCTIONS.includes(fn as ComputeFunction)) {
    throw configError(owner, { option: `compute.${name}` }, 'view', `must name exactly one function of ${quoteList(FUNCTIONS)} (got ${describe(input)})`, "e.g. { count: '*' }, { avg: 'delay' } or { first: 'delay', by: 'date' }")
  }
  if (column === '*' ? fn !== 'count' : typeof column !== 'string') {
    throw configError(owner, { option: `compute.${name}` }, 'view', `${fn} needs a source column name (got ${describe(column)})`, `e.g. { ${fn}: 'delay' }${fn === 'count' ? " or { count: '*' }" : ''}`)
  }
  if (column !== '*') checkFieldPath(owner, { option: `compute.${name}` }, column, 'source fields')
  const def: ComputeDef = { name, fn: fn as ComputeFunction, column: column as string }
  if (fn === 'first' || fn === 'last') {
    const by = (input as { by?: unknown }).by ?? defaultBy
    if (typeof by !== 'string') {
      throw configError(owner, { option: `compute.${name}` }, 'view', `${fn} needs an ordering column`, `add by: '<column>', e.g. { ${fn}: '${column}', by: 'date' }`)
    }
    checkFieldPath(owner, { option: `compute.${name}.by` }, by, 'ordering fields')
    def.by = by
  } else if ((input as { by?: unknown }).by !== undefined) {
    throw configError(owner, { option: `compute.${name}.by` }, 'view', `"by" only applies to first and last (got it with ${fn})`, 'remove by')
  }
  return def
}

/** What a declarative view declaration compiles to. */
export interface CompiledDeclarative {
  declarative: DeclarativeView
  refresh: ViewRefreshConfig
  /** The SELECT of the states over the source (the MV's SELECT and the backfill's). */
  select: string
  /** Target table `<name>_state`. */
  targetName: string
  orderByFields: string[]
  /** Messages for the daemon to log at load. */
  notes: string[]
}

/**
 * Checks and compiles a declarative view.
 * @param source the source table name (already resolved from an OlapTable or pipeline).
 * @param defaultBy ordering column for first/last when `by` is absent (the source's first ORDER BY field), if known.
 * @throws ConfigError for a bad groupBy, compute or filter, or a non-incremental function with
 *   `refresh.mode: 'streaming'` or `strategy: 'append'` (contract: such a function forces a
 *   scheduled or manual refresh). Without a mode, such a view becomes manual and `notes` says so.
 */
export function compileDeclarative(
  owner: Owner,
  options: { name: string; filter?: unknown; groupBy?: unknown; compute?: unknown; refresh?: ViewRefreshOptions },
  source: string,
  defaultBy: string | undefined,
): CompiledDeclarative {
  const { name } = options
  const groupByInput = options.groupBy
  if (!Array.isArray(groupByInput) || groupByInput.length === 0) {
    throw configError(owner, { option: 'groupBy' }, 'view', `must be a non-empty array of column names or { alias: 'expression' } (got ${describe(groupByInput)})`, "e.g. groupBy: ['origin', { day: 'toDate(date)' }]")
  }
  const groupBy: DeclarativeView['groupBy'] = []
  for (const key of groupByInput as unknown[]) {
    if (typeof key === 'string') {
      checkFieldPath(owner, { option: 'groupBy' }, key, 'grouping fields')
      groupBy.push({ name: key, expr: fieldSql(key) })
    } else if (typeof key === 'object' && key !== null && Object.keys(key).length === 1) {
      const [alias, expr] = Object.entries(key)[0] as [string, unknown]
      checkOutputName(owner, { option: 'groupBy' }, alias, 'grouping aliases')
      if (typeof expr !== 'string' || expr.trim() === '' || expr.includes(';')) {
        throw configError(owner, { option: `groupBy.${alias}` }, 'view', `must be one SQL expression (got ${describe(expr)})`, "e.g. { day: 'toDate(date)' }")
      }
      groupBy.push({ name: alias, expr: expr.trim() })
    } else {
      throw configError(owner, { option: 'groupBy' }, 'view', `each key is a column name or { alias: 'expression' } (got ${describe(key)})`, "e.g. groupBy: ['origin', { day: 'toDate(date)' }]")
    }
  }
  const computeInput = options.compute
  if (typeof computeInput !== 'object' || computeInput === null || Array.isArray(computeInput) || Object.keys(computeInput).length === 0) {
    throw configError(owner, { option: 'compute' }, 'view', `must be an object of output columns (got ${describe(computeInput)})`, "e.g. compute: { flights: { count: '*' }, avg_delay: { avg: 'delay' } }")
  }
  const compute = Object.entries(computeInput as Record<string, ComputeInput>).map(([column, input]) => computeDef(owner, column, input, defaultBy))
  const names = [...groupBy.map((g) => g.name), ...compute.map((c) => c.name)]
  const twice = names.find((n, i) => names.indexOf(n) !== i)
  if (twice !== undefined) {
    throw configError(owner, { option: 'compute' }, 'view', `the output column "${twice}" is declared twice`, 'give every grouping key and computed column its own name')
  }
  const filter = options.filter
  if (filter !== undefined && (typeof filter !== 'string' || filter.trim() === '' || filter.includes(';'))) {
    throw configError(owner, { option: 'filter' }, 'view', `must be one SQL predicate over source columns (got ${describe(filter)})`, "e.g. filter: 'distance > 500'")
  }
  const blocking = compute.filter((c) => FULL_REFRESH_FUNCTIONS.includes(c.fn))
  const incremental = blocking.length === 0
  const notes: string[] = []
  let refresh: ViewRefreshConfig
  if (!incremental) {
    const what = blocking.map((c) => `"${c.name}" (${c.fn})`).join(', ')
    const fix = "set refresh: { mode: 'scheduled', schedule: '*/5 * * * *' } or { mode: 'manual' }"
    if (options.refresh?.mode === 'streaming') {
      throw configError(owner, { option: 'refresh.mode' }, 'view', `${what} cannot be maintained incrementally by the MV trigger (first, last, stddev and variance need a full refresh)`, fix)
    }
    if (options.refresh?.strategy === 'append') {
      throw configError(owner, { option: 'refresh.strategy' }, 'view', `${what} cannot be appended to (first, last, stddev and variance need a full refresh)`, "use strategy: 'replace'")
    }
    refresh = normalizeRefresh(owner, options.refresh, 'manual')
    if (options.refresh?.mode === undefined) {
      notes.push(`view "${name}": ${what} ${blocking.length === 1 ? 'needs' : 'need'} a full refresh, so the view is refreshed manually (POST /api/mv/${name}/refresh); ${fix.replace('set ', 'to refresh it on a schedule, set ')}`)
    }
  } else {
    refresh = normalizeRefresh(owner, options.refresh)
  }
  const declarative: DeclarativeView = {
    from: source,
    groupBy,
    compute,
    queryView: name,
    mvName: `${name}_mv`,
    incremental,
    ...(typeof filter === 'string' ? { filter: filter.trim() } : {}),
  }
  return { declarative, refresh, select: stateSelect(declarative), targetName: `${name}_state`, orderByFields: groupBy.map((g) => g.name), notes }
}

/**
 * The SQL of a source field path: `` `delay` `` for a top-level field, and
 * `` tupleElement(`properties`, 'mag') `` for `properties.mag` (each dot one level of nesting).
 */
export function fieldSql(path: string): string {
  const [first, ...rest] = path.split('.')
  return rest.reduce((expr, part) => `tupleElement(${expr}, '${part.replace(/[\\']/g, (c) => '\\' + c)}')`, backquote(first as string))
}

function stateColumns(c: ComputeDef): string[] {
  const x = c.column === '*' ? '' : fieldSql(c.column)
  const as = (suffix = '') => ` AS ${backquote(c.name + suffix)}`
  switch (c.fn) {
    case 'count':
      return [`countState(${x})${as()}`]
    case 'avg':
      return [`sumState(${x})${as('__sum')}`, `countState(${x})${as('__count')}`]
    case 'first':
      return [`argMinState(${x}, ${fieldSql(c.by as string)})${as()}`]
    case 'last':
      return [`argMaxState(${x}, ${fieldSql(c.by as string)})${as()}`]
    case 'stddev':
      return [`stddevPopState(${x})${as()}`]
    case 'variance':
      return [`varPopState(${x})${as()}`]
    default:
      return [`${c.fn}State(${x})${as()}`]
  }
}

function mergeColumn(c: ComputeDef): string {
  const q = (suffix = '') => backquote(c.name + suffix)
  switch (c.fn) {
    case 'avg':
      return `sumMerge(${q('__sum')}) / countMerge(${q('__count')}) AS ${q()}`
    case 'first':
      return `argMinMerge(${q()}) AS ${q()}`
    case 'last':
      return `argMaxMerge(${q()}) AS ${q()}`
    case 'stddev':
      return `stddevPopMerge(${q()}) AS ${q()}`
    case 'variance':
      return `varPopMerge(${q()}) AS ${q()}`
    default:
      return `${c.fn}Merge(${q()}) AS ${q()}`
  }
}

/**
 * `SELECT <keys>, <states> FROM <from> [WHERE (<filter>)] GROUP BY <keys>`: the states of every
 * computed column (count → countState, avg → sumState and countState as `<col>__sum`,
 * `<col>__count`, first/last → argMin/argMaxState over `by`, stddev/variance → the population forms).
 */
export function stateSelect(d: DeclarativeView): string {
  const keys = d.groupBy.map((g) => (g.expr === backquote(g.name) ? g.expr : `${g.expr} AS ${backquote(g.name)}`))
  const columns = [...keys, ...d.compute.flatMap(stateColumns)].join(', ')
  const where = d.filter ? ` WHERE (${d.filter})` : ''
  return `SELECT ${columns} FROM ${d.from}${where} GROUP BY ${d.groupBy.map((g) => backquote(g.name)).join(', ')}`
}

/**
 * `SELECT <keys>, <merged values> FROM <table> GROUP BY <keys>`: the SELECT of the query view,
 * reading the state table (or its Distributed table). avg is `sumMerge / countMerge`.
 */
export function mergeSelect(d: DeclarativeView, table: string): string {
  const keys = d.groupBy.map((g) => backquote(g.name))
  return `SELECT ${[...keys, ...d.compute.map(mergeColumn)].join(', ')} FROM ${table} GROUP BY ${keys.join(', ')}`
}

/** An output column name: any non-empty text (it is quoted in SQL). Throws ConfigError (rule `name`). */
function checkOutputName(owner: Owner, subject: Subject, value: string, what: string): void {
  if (value !== '') return
  throw configError(owner, subject, 'name', `${what} must not be empty`, 'name the column')
}

/** A field path as written in a declarative view: a non-empty string; each dot is one level of nesting. Throws ConfigError (rule `view`). */
function checkFieldPath(owner: Owner, subject: Subject, value: unknown, what: string): void {
  if (typeof value === 'string' && value !== '' && !value.split('.').includes('')) return
  throw configError(owner, subject, 'view', `${what} must be field names, nested fields as dotted paths (got ${describe(value)})`, "e.g. 'delay' or 'properties.mag'")
}

/**
 * Checks that every field a declarative view reads (compute sources, first/last `by`, plain
 * groupBy keys) is a field of the source table's schema, nested fields as dotted paths.
 * @throws ConfigError (rule `view`) naming the option and the field, and listing the schema's fields.
 */
export function checkDeclarativeFields(owner: Owner, d: DeclarativeView, schema: TSchema, table: string): void {
  const uses: Array<[string, string]> = []
  for (const g of d.groupBy) if (g.expr === fieldSql(g.name)) uses.push(['groupBy', g.name])
  for (const c of d.compute) {
    if (c.column !== '*') uses.push([`compute.${c.name}`, c.column])
    if (c.by !== undefined) uses.push([`compute.${c.name}.by`, c.by])
  }
  for (const [option, field] of uses) {
    if (fieldAtPath(schema, field) === undefined) {
      throw configError(owner, { option }, 'view', `field "${field}" is not in the schema of table "${table}"`, `name a field of the schema, nested fields as dotted paths (${listPaths(fieldPaths(schema))})`)
    }
  }
}
