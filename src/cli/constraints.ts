/**
 * `flowhouse constraints ...`: the constraint admin API from the command line.
 *
 *   flowhouse constraints list
 *   flowhouse constraints status|enable|disable|limits|metrics|stats PIPELINE NAME
 *   flowhouse constraints update PIPELINE NAME '<json config>'
 *   flowhouse constraints violations [--pipeline P] [--constraint C] [--from ISO] [--to ISO] [--limit N]
 *
 * Every subcommand takes `--url` (wins over FLOWHOUSE_URL; default http://127.0.0.1:4000).
 */
import { Command } from 'commander'
import { apiTarget, callApi as call, DEFAULT_URL } from './api.ts'
import { printTable } from './table.ts'

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2))
const base = (pipeline: string, name: string) => `/api/constraints/${encodeURIComponent(pipeline)}/${encodeURIComponent(name)}`

/**
 * Adds the `constraints` command group to `program`; each subcommand takes `--url`.
 * @param apiKey the program's `--api-key` flag, if given (FLOWHOUSE_API_KEY otherwise).
 */
export function constraintsCommand(program: Command, apiKey: () => string | undefined = () => undefined): void {
  const group = program.command('constraints').description("inspect and change a running daemon's constraints (the /api/constraints API)")
  let urlOption: string | undefined
  const url = () => apiTarget({ ...(urlOption ? { url: urlOption } : {}), ...(apiKey() ? { apiKey: apiKey()! } : {}) })
  const command = (spec: string): Command =>
    group
      .command(spec)
      .option('--url <url>', `daemon URL (env FLOWHOUSE_URL, default ${DEFAULT_URL})`)
      .hook('preAction', (cmd) => {
        urlOption = (cmd.opts() as { url?: string }).url
      })
  command('list').description('every running constraint with its status').action(async () => {
    const { constraints } = (await call(url(), 'GET', '/api/constraints')) as { constraints: Array<Record<string, unknown>> }
    if (constraints.length === 0) console.log('(no constraints)')
    else printTable(constraints.map((c) => ({ pipeline: c.pipeline, name: c.name, type: c.type, enabled: c.enabled, priority: c.priority, action: c.action })))
  })
  const paths = { status: '', limits: '/limits', metrics: '/metrics', stats: '/statistics' } as const
  for (const [verb, suffix] of Object.entries(paths)) {
    command(`${verb} <pipeline> <name>`).action(async (pipeline: string, name: string) => print(await call(url(), 'GET', base(pipeline, name) + suffix)))
  }
  for (const verb of ['enable', 'disable'] as const) {
    command(`${verb} <pipeline> <name>`).description(`${verb} the constraint (persists; every instance within 2 s)`).action(async (pipeline: string, name: string) => print(await call(url(), 'POST', `${base(pipeline, name)}/${verb}`)))
  }
  command('update <pipeline> <name> <config>')
    .description('merge a JSON object into the constraint config, e.g. \'{"max_events_per_second": 500}\'')
    .action(async (pipeline: string, name: string, config: string) => {
      let parsed: unknown
      try {
        parsed = JSON.parse(config)
      } catch {
        throw new Error(`config must be a JSON object, e.g. '{"max_events_per_second": 500}'`)
      }
      print(await call(url(), 'PUT', `${base(pipeline, name)}/config`, { config: parsed }))
    })
  command('violations')
    .description('the violation history (rows aggregate one constraint, key and second)')
    .option('--pipeline <name>')
    .option('--constraint <name>')
    .option('--from <time>', 'ISO-8601, inclusive')
    .option('--to <time>', 'ISO-8601, exclusive')
    .option('--limit <n>', 'most rows', '100')
    .action(async (opts: Record<string, string | undefined>) => {
      const q = new URLSearchParams(Object.entries(opts).filter(([k]) => k !== 'url').filter((e): e is [string, string] => e[1] !== undefined))
      const { violations } = (await call(url(), 'GET', `/api/violations?${q}`)) as { violations: unknown[] }
      if (violations.length === 0) console.log('(no violations)')
      else printTable(violations as Array<Record<string, unknown>>)
    })
}
