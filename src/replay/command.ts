/**
 * `flowhouse replay FILE --pipeline NAME [--limit N] [--skip N] [--batch N] [--rate N] [--id-field F] [--brokers LIST]`:
 * produces the rows of a file to the pipeline's ingest topic (the topic is the pipeline's name).
 * Pipeline modules are not loaded; the topic must already exist (the daemon creates it).
 */
import { FlowhouseError } from '../errors.ts'
import { resolveKafkaSecurity } from '../kafka/options.ts'
import { setting } from '../util/environment.ts'
import { createProgressPrinter, type ProgressPrinterOptions } from './progress.ts'
import { replay } from './replay.ts'
import type { ReplayRegistry, ReplayResult } from './types.ts'

/** The command's arguments, as commander hands them over (numbers may still be strings). */
export interface ReplayCommandOptions {
  /** `.parquet` or `.json` file. */
  file: string
  /** Pipeline name = topic to produce to. */
  pipeline: string
  limit?: number | string
  skip?: number | string
  /** Records per message. @default 1_000 */
  batch?: number | string
  /** Max records per second. @default unlimited */
  rate?: number | string
  /** Field given the row index when a record lacks it. @default 'id' */
  idField?: string
  /** Comma-separated `host:port` list. @default env KAFKA_BROKERS, else `127.0.0.1:9092` */
  brokers?: string
  /** Encode rows as Avro through a schema registry, one message per row (replay/registry-source.ts). @default JSON arrays */
  registry?: ReplayRegistry
  /** Stops the replay (in-flight sends are awaited). Without it, SIGINT/SIGTERM stop it while it runs. */
  signal?: AbortSignal
  /** Progress output (stream, TTY mode, interval). @default stderr */
  progress?: ProgressPrinterOptions
  /** Environment for KAFKA_BROKERS and the Kafka TLS / SASL variables (src/kafka/options.ts). @default process.env */
  env?: NodeJS.ProcessEnv
}

/**
 * Runs the replay command: validates the arguments, checks the topic exists, replays with
 * progress on stderr and a summary line, and returns the result (the caller sets the exit code).
 * On SIGINT/SIGTERM (when no `signal` is given) in-flight sends are flushed and the result has
 * `aborted: true`; the summary tells how many records went out, and `--skip <skip + records>` resumes.
 * @throws FlowhouseError BAD_REQUEST for a bad argument (e.g. `--batch must be a positive integer, got "x"`),
 *   NOT_FOUND `topic "x" does not exist: start the daemon with the pipeline first` or for a missing file,
 *   DECODE_FAILED for an unreadable file, KAFKA_ERROR when Kafka fails.
 */
export async function runReplayCommand(options: ReplayCommandOptions): Promise<ReplayResult> {
  const topic = options.pipeline
  if (typeof topic !== 'string' || topic.trim() === '') throw new FlowhouseError('BAD_REQUEST', '--pipeline is required: the name of the pipeline whose topic receives the records')
  const env = options.env
  const brokers = parseBrokers(options.brokers ?? setting('KAFKA_BROKERS', env))
  const printer = createProgressPrinter({ label: `replay ${topic}`, ...options.progress })
  const controller = options.signal === undefined ? new AbortController() : undefined
  const stop = (): void => controller?.abort()
  if (controller !== undefined) {
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  }
  try {
    const result = await replay({
      file: options.file,
      topic,
      brokers,
      security: resolveKafkaSecurity(env),
      limit: optionalInt('--limit', options.limit, 0),
      skip: optionalInt('--skip', options.skip, 0),
      batch: optionalInt('--batch', options.batch, 1),
      rate: optionalRate(options.rate),
      idField: options.idField,
      ...(options.registry ? { registry: options.registry } : {}),
      signal: options.signal ?? controller?.signal,
      onProgress: printer,
    })
    printer.finish(result)
    return result
  } finally {
    process.removeListener('SIGINT', stop)
    process.removeListener('SIGTERM', stop)
  }
}

/**
 * Parses a comma-separated broker list (`host:port,host:port`).
 * @throws FlowhouseError BAD_REQUEST when it is empty or an entry lacks a port.
 */
export function parseBrokers(list: string): string[] {
  const brokers = list.split(',').map((b) => b.trim()).filter(Boolean)
  if (brokers.length === 0) throw new FlowhouseError('BAD_REQUEST', '--brokers must list at least one host:port')
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(broker)) {
      throw new FlowhouseError('BAD_REQUEST', `--brokers: "${broker}" is not host:port (e.g. 127.0.0.1:9092)`)
    }
  }
  return brokers
}

function optionalInt(flag: string, value: number | string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < min) {
    throw new FlowhouseError('BAD_REQUEST', `${flag} must be a ${min === 0 ? 'non-negative' : 'positive'} integer, got "${String(value)}"`, { context: { field: flag } })
  }
  return n
}

function optionalRate(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = typeof value === 'number' ? value : value.trim() === '' ? NaN : Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new FlowhouseError('BAD_REQUEST', `--rate must be a positive number of records per second, got "${String(value)}"`, { context: { field: '--rate' } })
  return n
}
