/**
 * The `flowhouse` command line.
 *   flowhouse start  [--pipelines DIR] [--port N]     run the daemon
 *   flowhouse check  [--pipelines DIR]                load and check modules, provision nothing
 *   flowhouse replay FILE --pipeline NAME [...]       produce a Parquet / JSON file to a pipeline's topic
 *   flowhouse sql "<query>" [--url URL]               read-only SQL through the daemon's /api/sql
 *   flowhouse dev                                     local Kafka + daemon + replay of the real flights
 *   flowhouse constraints list|status|enable|disable|update|limits|metrics|stats|violations
 *   flowhouse mv list|create|status|backfill|refresh|query|drop   materialized views through /api/mv (src/cli/mv.ts)
 *   flowhouse keys create --scope ingest|read|admin   a new API key and its FLOWHOUSE_API_KEYS entry
 *   flowhouse init DIR [--flowhouse SPEC]             a new project using flowhouse (src/cli/init.ts)
 *   flowhouse dlq peek|replay PIPELINE, flowhouse peek STREAM, flowhouse reset PIPELINE   dead letters and topics (src/cli/dlq.ts)
 * Commands that call the daemon (sql, mv, constraints) send `--api-key` (or FLOWHOUSE_API_KEY) as a bearer token.
 */
import { Command } from 'commander'
import { resolveConfig } from '../config.ts'
import { messageOf } from '../errors.ts'
import { apiTarget } from './api.ts'
import { nonNegativeInt, positiveInt } from './args.ts'
import { registerKeysCommands } from './keys.ts'
import { redactSecrets } from '../util/redact.ts'
import { registerMvCommands } from './mv.ts'

const program = new Command('flowhouse')
  .description('Stream-processing daemon: Kafka → validation, constraints, transforms → ClickHouse tables and materialized views')
  .option('--api-key <key>', 'API key for the commands that call the daemon (env FLOWHOUSE_API_KEY)')
const apiKey = (): string | undefined => program.opts<{ apiKey?: string }>().apiKey

program
  .command('start')
  .description('run the daemon on the pipelines folder')
  .option('--pipelines <dir>', 'pipelines folder (env FLOWHOUSE_PIPELINES, default ./pipelines)')
  .option('--port <n>', 'HTTP port (env FLOWHOUSE_PORT, default 4000)', positiveInt)
  .action(async (opts: { pipelines?: string; port?: number }) => {
    const { startCommand } = await import('./start.ts')
    await startCommand(resolveConfig(process.env, { ...(opts.pipelines ? { pipelinesDir: opts.pipelines } : {}), ...(opts.port ? { port: opts.port } : {}) }))
  })

program
  .command('check')
  .description('load and check every pipeline module; exit 1 if any fails')
  .option('--pipelines <dir>', 'pipelines folder (env FLOWHOUSE_PIPELINES, default ./pipelines)')
  .action(async (opts: { pipelines?: string }) => {
    const { checkCommand } = await import('./check.ts')
    process.exitCode = await checkCommand(resolveConfig(process.env, opts.pipelines ? { pipelinesDir: opts.pipelines } : {}).pipelinesDir)
  })

program
  .command('replay')
  .description("produce the records of a Parquet file or a JSON array file to a pipeline's topic")
  .argument('<file>', '.parquet or .json (one JSON array) file')
  .requiredOption('--pipeline <name>', 'pipeline (topic) to produce to')
  .option('--limit <n>', 'stop after N records', positiveInt)
  .option('--skip <n>', 'start at record N (0-based)', nonNegativeInt)
  .option('--batch <n>', 'records per Kafka message (default 1000)', positiveInt)
  .option('--rate <n>', 'at most N records per second', positiveInt)
  .option('--id-field <name>', 'field set to the row number when a record lacks it (default id)')
  .option('--brokers <list>', 'Kafka brokers (env KAFKA_BROKERS, default 127.0.0.1:9092)')
  .option('--format <format>', 'json (JSON arrays, default), or avro, json-schema or protobuf (one Confluent wire-format message per row)', 'json')
  .option('--subject <name>', "registry formats: registry subject (default the pipeline's, else <pipeline>-value)")
  .option('--registry <url>', "registry formats: schema registry URL (default the pipeline's format url)")
  .option('--schema <file>', "registry formats: schema to register (default derived from the pipeline's schema)")
  .option('--pipelines <dir>', 'registry formats: pipelines folder holding the pipeline (env FLOWHOUSE_PIPELINES, default ./pipelines)')
  .action(async (file: string, opts: { pipeline: string; limit?: number; skip?: number; batch?: number; rate?: number; idField?: string; brokers?: string; format: string; subject?: string; registry?: string; schema?: string; pipelines?: string }) => {
    const { format, subject, registry: registryUrl, schema, pipelines, ...rest } = opts
    const { REGISTRY_FORMATS, registryReplayTarget } = await import('./replay-registry.ts')
    if (format !== 'json' && !(format in REGISTRY_FORMATS)) throw new Error(`--format must be json, avro, json-schema or protobuf (got "${format}")`)
    const { runReplayCommand } = await import('../replay/command.ts')
    let registry
    if (format !== 'json') {
      const pipelinesDir = resolveConfig(process.env, pipelines ? { pipelinesDir: pipelines } : {}).pipelinesDir
      registry = await registryReplayTarget({ pipeline: opts.pipeline, format: format as keyof typeof REGISTRY_FORMATS, pipelinesDir, subject, registry: registryUrl, schemaFile: schema })
    }
    await runReplayCommand({ file, ...rest, ...(registry ? { registry } : {}) })
  })

program
  .command('sql')
  .description("run a read-only SQL query through a running daemon's /api/sql")
  .argument('<query>', 'SQL (SELECT, SHOW, DESCRIBE ...)')
  .option('--url <url>', 'daemon URL (env FLOWHOUSE_URL, default http://127.0.0.1:4000)')
  .option('--format <fmt>', 'json | table', 'table')
  .action(async (query: string, opts: { url?: string; format: string }) => {
    const { sqlCommand } = await import('./sql.ts')
    await sqlCommand(query, apiTarget({ ...(opts.url ? { url: opts.url } : {}), ...(apiKey() ? { apiKey: apiKey()! } : {}) }), opts.format)
  })

program
  .command('dev')
  .description('start local Kafka, run the daemon on the embedded engine with ./pipelines, replay the real flights and query a view')
  .option('--limit <n>', 'replay only the first N flights', positiveInt)
  .option('--keep-running', 'keep the daemon running after the sample query (default: when on a terminal)')
  .option('--exit', 'stop after the sample query')
  .action(async (opts: { limit?: number; keepRunning?: boolean; exit?: boolean }) => {
    const { devCommand } = await import('./dev.ts')
    await devCommand({ limit: opts.limit, keepRunning: opts.exit ? false : (opts.keepRunning ?? Boolean(process.stdout.isTTY)) })
  })

registerMvCommands(program, apiKey)
registerKeysCommands(program)
await import('./init.ts').then((init) => init.registerInitCommand(program))

const { registerDlqCommands } = await import('./dlq.ts')
registerDlqCommands(program)

const { registerSchemaCommands } = await import('./schema.ts')
registerSchemaCommands(program)

const { constraintsCommand } = await import('./constraints.ts')
constraintsCommand(program, apiKey)

try {
  await program.parseAsync(process.argv)
} catch (error) {
  console.error(`flowhouse: ${redactSecrets(messageOf(error))}`)
  process.exitCode = 1
}
