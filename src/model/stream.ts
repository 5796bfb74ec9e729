/**
 * Stream: a Kafka topic of records with one schema, its transforms and consumers.
 */
import type { Static, TSchema } from '@sinclair/typebox'
import { MODEL_KIND, RESOLVE_NAMES, modelKindOf, type NameLookup } from './brand.ts'
import { checkStreamConfig, checkStreamSchema, resolveStreamConfig } from './check-stream.ts'
import { checkIdentifier, configError, describe, ownerOf, type Owner } from './config-error.ts'
import { OWNED_BY, PIPELINE_DEFAULTS, UNKNOWN_FIELD_POLICIES, type DestinationInput, type StreamOptions, type UnknownFieldPolicy } from './options.ts'
import type { ConsumerFn, Destination, IngestPipelineLike, OlapTableLike, StreamConfig, StreamLike, TransformDef, TransformFn } from './types.ts'

/** Record type a destination accepts, inferred from its schema (any for a name). */
export type RecordOf<D> = D extends { schema: infer S extends TSchema } ? Static<S> : any

interface PendingTransform {
  destination: Destination | string
  fn: TransformFn
  index: number
}

/**
 * A stream. `new Stream(name, schema, options?)`: `name` is a ClickHouse/Kafka identifier
 * and the topic name; options `{ parallelism?, retentionPeriod?, destination? }` with
 * parallelism 1 and retentionPeriod 604_800 seconds by default; `destination` is a table every
 * valid record is written to as-is (an OlapTable or the name of one in the same module);
 * `unknownFields` ('ignore' by default, or 'dead_letter') decides what happens to records with
 * fields the schema does not declare.
 *
 * The constructor checks the options and schema and throws ConfigError on the first
 * violation. Destinations given by name are resolved by collectDefinitions, which throws
 * ConfigError when a name does not exist in the module (contract: destinations must exist).
 */
export class Stream<S extends TSchema = TSchema> implements StreamLike {
  readonly kind = 'stream' as const
  readonly [MODEL_KIND] = 'stream' as const
  readonly name: string
  readonly schema: S
  readonly config: Required<StreamConfig>
  readonly consumers: ConsumerFn<Static<S>>[] = []
  readonly pipeline?: string
  readonly unknownFields: UnknownFieldPolicy
  #destination: OlapTableLike | string | undefined
  readonly #transforms: PendingTransform[] = []

  constructor(name: string, schema: S, options: StreamOptions = {}) {
    this.name = name
    this.schema = schema
    this.pipeline = options[OWNED_BY]
    const owner = this.#owner()
    checkIdentifier(owner, undefined, name, 'the name')
    checkStreamSchema(owner, schema)
    this.config = resolveStreamConfig(options)
    checkStreamConfig(owner, this.config)
    this.#destination = destinationTable(owner, options.destination)
    this.unknownFields = unknownFieldPolicy(owner, options.unknownFields)
  }

  /** Table every valid record is written to, once resolved; undefined when none. */
  get destination(): OlapTableLike | undefined {
    return typeof this.#destination === 'string' ? undefined : this.#destination
  }

  /** Transforms whose destination is resolved, in the order they were added. */
  get transforms(): TransformDef[] {
    return this.#transforms.filter((entry): entry is TransformDef => typeof entry.destination !== 'string').map((entry) => ({ ...entry }))
  }

  /**
   * Sends every record through `fn` to `destination` (a Stream, an OlapTable, an
   * IngestPipeline meaning its stream, or the name of a stream or table of this module).
   * `fn` returns records, one record, or null/[] to filter. Returns the stream for chaining.
   * Throws ConfigError when `fn` is not a function or the destination is not one of these,
   * or is this stream itself.
   */
  addTransform<D extends DestinationInput>(destination: D, fn: TransformFn<Static<S>, RecordOf<D>>): this {
    const index = this.#transforms.length
    const owner = this.#owner()
    if (typeof fn !== 'function') {
      throw configError(owner, { transform: index }, 'destination', `the transform must be a function (got ${describe(fn)})`, 'pass (record) => records, a record, or null')
    }
    const resolved = transformDestination(owner, index, destination)
    if (resolved === this) throw selfLoop(owner, index)
    this.#transforms.push({ destination: resolved, fn, index })
    return this
  }

  /** Calls `fn` for every valid record (side effects only). Returns the stream. Throws ConfigError when `fn` is not a function. */
  addConsumer(fn: ConsumerFn<Static<S>>): this {
    if (typeof fn !== 'function') throw configError(this.#owner(), undefined, 'option', `addConsumer needs a function (got ${describe(fn)})`, 'pass (record) => void')
    this.consumers.push(fn)
    return this
  }

  /** Resolves destinations given by name (collectDefinitions). Throws ConfigError (rule `destination`) for a name not in the module. */
  [RESOLVE_NAMES](lookup: NameLookup): void {
    const owner = this.#owner()
    if (typeof this.#destination === 'string') {
      const table = lookup.table(this.#destination)
      if (table === undefined) {
        throw configError(owner, { option: 'destination' }, 'destination', `table "${this.#destination}" does not exist in this module`, 'pass the OlapTable object, or declare a table with that name in the same module')
      }
      this.#destination = table
    }
    for (const entry of this.#transforms) {
      if (typeof entry.destination !== 'string') continue
      const found = lookup.stream(entry.destination) ?? lookup.table(entry.destination)
      if (found === undefined) {
        throw configError(owner, { transform: entry.index }, 'destination', `destination "${entry.destination}" does not exist in this module`, 'pass the Stream or OlapTable object, or declare one with that name in the same module')
      }
      if (found === this) throw selfLoop(owner, entry.index)
      entry.destination = found
    }
  }

  #owner(): Owner {
    return ownerOf('stream', this.name, this.pipeline)
  }
}

function destinationTable(owner: Owner, destination: unknown): OlapTableLike | string | undefined {
  if (destination === undefined) return undefined
  if (typeof destination === 'string') {
    checkIdentifier(owner, { option: 'destination' }, destination, 'a destination name')
    return destination
  }
  if (modelKindOf(destination) === 'table') return destination as OlapTableLike
  const table = modelKindOf(destination) === 'pipeline' ? (destination as IngestPipelineLike).table : undefined
  if (table !== undefined) return table
  throw configError(owner, { option: 'destination' }, 'destination', `must be an OlapTable or the name of one in this module (got ${describeObject(destination)})`, 'pass an OlapTable, or leave destination out')
}

function transformDestination(owner: Owner, index: number, destination: unknown): Destination | string {
  if (typeof destination === 'string') {
    checkIdentifier(owner, { transform: index }, destination, 'a destination name')
    return destination
  }
  const kind = modelKindOf(destination)
  if (kind === 'stream' || kind === 'table') return destination as Destination
  if (kind === 'pipeline') return (destination as IngestPipelineLike).stream
  throw configError(owner, { transform: index }, 'destination', `the destination must be a Stream, an OlapTable, an IngestPipeline or the name of one in this module (got ${describeObject(destination)})`, 'pass one of these as the first argument of addTransform')
}

function selfLoop(owner: Owner, index: number) {
  return configError(owner, { transform: index }, 'destination', 'a stream must not transform into itself (records would loop forever)', 'send the records to another stream or to a table')
}

function describeObject(value: unknown): string {
  const kind = modelKindOf(value)
  if (kind === 'pipeline') return `pipeline "${(value as IngestPipelineLike).name}" without a table`
  if (kind === 'view') return 'a MaterializedView'
  return typeof value === 'object' && value !== null ? 'an object' : describe(value)
}

/** The unknown-field policy, defaulted. Throws ConfigError (rule `option`) for another value. */
export function unknownFieldPolicy(owner: Owner, value: unknown): UnknownFieldPolicy {
  if (value === undefined) return PIPELINE_DEFAULTS.unknownFields
  if (UNKNOWN_FIELD_POLICIES.includes(value as UnknownFieldPolicy)) return value as UnknownFieldPolicy
  throw configError(owner, { option: 'unknownFields' }, 'option', `must be "ignore" or "dead_letter" (got ${describe(value)})`, "use 'ignore' to write records without the fields the schema lacks, or 'dead_letter' to send such records to the DLQ")
}
