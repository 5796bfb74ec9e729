/**
 * Dead letters and streams from the command line, talking to Kafka directly (like `replay`), so
 * they work with or without a running daemon:
 *
 *   flowhouse dlq peek PIPELINE [--limit N] [--stage S] [--since 15m|ISO] [--filter F ...] [--format table|json]
 *   flowhouse dlq replay PIPELINE [--stage S] [--since ...] [--filter F ...] [--force] [--dry-run]
 *   flowhouse peek STREAM [--limit N] [--format table|json]
 *   flowhouse reset PIPELINE [--yes]
 *
 * `--brokers` (or KAFKA_BROKERS) names the brokers; FLOWHOUSE_GROUP_PREFIX the group prefix;
 * KAFKA_SSL* / KAFKA_SASL_* secure the connections as for the daemon.
 * The admin API has the same operations (src/http/dlq.ts).
 */
import { createInterface } from 'node:readline/promises'
import { Command, InvalidArgumentError } from 'commander'
import { resolveConfig } from '../config.ts'
import { createKafka } from '../kafka/client.ts'
import { peekDlq, replayDlq, dlqTopicOf, replayLedgerOf } from '../kafka/dlq-replay.ts'
import { RecordProducer } from '../kafka/producer.ts'
import { peekStream, resetPipeline } from '../kafka/tools.ts'
import { positiveInt } from './args.ts'
import { printTable } from './table.ts'

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * `--since`: a duration back from `now` (`30s`, `15m`, `2h`, `1d`) or an ISO-8601 time.
 * @throws InvalidArgumentError for anything else.
 */
export function parseSince(value: string, now = Date.now()): Date {
  const m = /^(\d+)([smhd])$/.exec(value.trim())
  if (m) return new Date(now - Number(m[1]) * UNITS[m[2]!]!)
  const t = Date.parse(value)
  if (Number.isNaN(t)) throw new InvalidArgumentError('must be a duration (30s, 15m, 2h, 1d) or an ISO-8601 time')
  return new Date(t)
}

const collect = (value: string, previous: string[]): string[] => [...previous, value]
const clip = (text: string, n = 100): string => (text.length > n ? `${text.slice(0, n - 1)}…` : text)

interface KafkaOptions {
  brokers?: string
}

function connect(o: KafkaOptions) {
  const config = resolveConfig(process.env, o.brokers ? { brokers: o.brokers.split(',').map((b) => b.trim()).filter(Boolean) } : {})
  return { kafka: createKafka(config.brokers, 'flowhouse-cli', config.kafkaSecurity), groupPrefix: config.groupPrefix }
}

const withKafka = (c: Command): Command => c.option('--brokers <list>', 'Kafka brokers (env KAFKA_BROKERS, default 127.0.0.1:9092)')
const withFilters = (c: Command): Command =>
  c
    .option('--stage <stage>', 'only this stage: decode | validation | constraint | transform | insert (repeatable)', collect, [])
    .option('--since <when>', 'only entries made since a duration ago (15m, 2h, 1d) or an ISO-8601 time', (v: string) => parseSince(v))
    .option('--filter <cond>', 'field=value or field~text on an entry field (errorType, reason, partition ...) or record.<path>; repeatable, all must hold', collect, [])

interface FilterOptions {
  stage: string[]
  since?: Date
  filter: string[]
}
const filterOf = (o: FilterOptions) => ({ stages: o.stage, ...(o.since ? { since: o.since } : {}), where: o.filter })

/**
 * Asks on the terminal before a destructive step.
 * @returns true when the user typed `expected`.
 * @throws Error when stdin is not a terminal (pass --yes in scripts).
 */
async function confirm(question: string, expected: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new Error('refusing to reset without confirmation: stdin is not a terminal; pass --yes')
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return (await rl.question(`${question}\nType the pipeline name to confirm: `)).trim() === expected
  } finally {
    rl.close()
  }
}

/** Adds `dlq peek|replay`, `peek` and `reset` to the program. */
export function registerDlqCommands(program: Command): void {
  const dlq = program.command('dlq').description("read and re-ingest a pipeline's dead letters (<pipeline>.dlq)")

  withFilters(withKafka(dlq.command('peek').description('show the newest dead letters that match').argument('<pipeline>')))
    .option('--limit <n>', 'most entries shown (default 20)', positiveInt)
    .option('--format <fmt>', 'table | json', 'table')
    .action(async (pipeline: string, o: KafkaOptions & FilterOptions & { limit?: number; format: string }) => {
      const { kafka } = connect(o)
      const result = await peekDlq(kafka, pipeline, { ...filterOf(o), ...(o.limit ? { limit: o.limit } : {}) })
      if (o.format === 'json') return console.log(JSON.stringify(result, null, 2))
      printTable(
        result.entries.map((e) => ({
          at: `${e.dlqPartition}:${e.dlqOffset}`,
          time: e.time,
          stage: e.stage,
          error: e.errorType,
          source: `${e.topic}:${e.partition}:${e.offset}${e.index === undefined ? '' : `#${e.index}`}`,
          reason: clip(e.reason),
        })),
      )
      console.log(`${result.entries.length} shown, ${result.matched} matching, ${result.total} in ${dlqTopicOf(pipeline)}`)
    })

  withFilters(withKafka(dlq.command('replay').description("re-ingest matching dead letters through the pipeline (after fixing the cause); entries replayed before are skipped").argument('<pipeline>')))
    .option('--force', 'replay entries <pipeline>.dlq.replayed lists as replayed already (the table still gets each row once)')
    .option('--dry-run', 'count what would be replayed, produce nothing')
    .action(async (pipeline: string, o: KafkaOptions & FilterOptions & { force?: boolean; dryRun?: boolean }) => {
      const { kafka } = connect(o)
      const producer = new RecordProducer(kafka)
      try {
        const r = await replayDlq(kafka, producer, pipeline, { ...filterOf(o), force: Boolean(o.force), dryRun: Boolean(o.dryRun) })
        console.log(JSON.stringify(r, null, 2))
        console.error(`${o.dryRun ? 'would replay' : 'replayed'} ${r.replayed} of ${r.matched} matching dead letters into "${pipeline}"; ${r.alreadyReplayed} replayed before (see ${replayLedgerOf(pipeline)}; --force sends them again)`)
      } finally {
        await producer.close()
      }
    })

  withKafka(program.command('peek').description("show the newest messages of a stream's topic").argument('<stream>'))
    .option('--limit <n>', 'most messages shown (default 10)', positiveInt)
    .option('--format <fmt>', 'table | json', 'table')
    .action(async (stream: string, o: KafkaOptions & { limit?: number; format: string }) => {
      const { kafka } = connect(o)
      const messages = await peekStream(kafka, stream, o.limit ?? 10)
      if (o.format === 'json') return console.log(JSON.stringify(messages, null, 2))
      printTable(messages.map((m) => ({ at: `${m.partition}:${m.offset}`, time: new Date(m.timestamp).toISOString(), key: m.key, value: clip(m.value, 120) })))
    })

  withKafka(program.command('reset').description("delete a pipeline's topics (ingest, DLQ, replay ledger) and consumer group; the daemon creates the topics again; tables are kept").argument('<pipeline>'))
    .option('--yes', 'do not ask (required when stdin is not a terminal)')
    .action(async (pipeline: string, o: KafkaOptions & { yes?: boolean }) => {
      const { kafka, groupPrefix } = connect(o)
      if (!o.yes) {
        const what = `Delete topics ${pipeline}, ${dlqTopicOf(pipeline)}, ${replayLedgerOf(pipeline)} and consumer group ${groupPrefix}.${pipeline}? Their messages are lost.`
        if (!(await confirm(what, pipeline))) {
          console.error('not confirmed; nothing was deleted')
          process.exitCode = 1
          return
        }
      }
      console.log(JSON.stringify(await resetPipeline(kafka, pipeline, groupPrefix), null, 2))
    })
}
