/**
 * IngestPipeline: ingest endpoint → stream → table, all named like the pipeline.
 */
import type { TSchema } from '@sinclair/typebox'
import { MODEL_KIND } from './brand.ts'
import { checkIdentifier, configError, describe, type Owner } from './config-error.ts'
import { INGEST_FORMAT, OWNED_BY, PIPELINE_DEFAULTS, type IngestPipelineOptions } from './options.ts'
import { checkFormat, registryOf } from './format.ts'
import { Stream } from './stream.ts'
import { OlapTable } from './table.ts'
import type { IngestFormat, IngestPipelineLike, StreamConfig, TableConfig } from './types.ts'

/**
 * An ingest pipeline. `new IngestPipeline(name, { schema, ingestApi?, stream?, table?,
 * deadLetterQueue?, unknownFields?, format?, constraints? })` creates:
 * - `stream`: a Stream named `name` (the ingest topic); always present, `stream: false` is
 *   an error (contract: the ingest destination must be a Stream);
 * - `table`: an OlapTable named `name`, unless `table: false`; when present it is the
 *   stream's destination;
 * - `dlqTopic`: `<name>.dlq`.
 *
 * Defaults: ingestApi true (false with a schema registry format), deadLetterQueue true, unknownFields
 * 'ignore', format 'JSON_ARRAY' (or `{ schemaRegistry }`: format.ts), stream and table options as in Stream and OlapTable. With
 * `table: false`, optional arrays are allowed (contract: nullable nested arrays need
 * `table: false`). `constraints` is stored as given.
 *
 * Throws ConfigError on the first violation; problems of the pipeline's own stream and
 * table are reported as `pipeline "<name>": ...`.
 */
export class IngestPipeline<S extends TSchema = TSchema> implements IngestPipelineLike {
  readonly kind = 'pipeline' as const
  readonly [MODEL_KIND] = 'pipeline' as const
  readonly name: string
  readonly schema: S
  readonly ingestApi: boolean
  readonly stream: Stream<S>
  readonly table?: OlapTable<S>
  readonly deadLetterQueue: boolean
  readonly dlqTopic: string
  readonly format: IngestFormat
  readonly constraints?: readonly unknown[]

  constructor(name: string, options: IngestPipelineOptions<S>) {
    const owner: Owner = { kind: 'pipeline', name }
    checkIdentifier(owner, undefined, name, 'the name')
    if (typeof options !== 'object' || options === null) {
      throw configError(owner, undefined, 'option', `options must be an object (got ${describe(options)})`, 'pass { schema: t.Object({ ... }) }')
    }
    checkOptions(owner, options)
    this.name = name
    this.schema = options.schema
    this.format = options.format ?? INGEST_FORMAT
    this.ingestApi = options.ingestApi ?? (registryOf(this.format) ? false : PIPELINE_DEFAULTS.ingestApi)
    this.deadLetterQueue = options.deadLetterQueue ?? PIPELINE_DEFAULTS.deadLetterQueue
    this.dlqTopic = `${name}.dlq`
    if (options.constraints !== undefined) this.constraints = options.constraints
    if (options.table !== false) {
      this.table = new OlapTable(name, options.schema, { ...configObject<TableConfig>(options.table), [OWNED_BY]: name })
    }
    this.stream = new Stream(name, options.schema, { ...configObject<StreamConfig>(options.stream), destination: this.table, unknownFields: options.unknownFields, [OWNED_BY]: name })
  }
}

function checkOptions(owner: Owner, options: IngestPipelineOptions<TSchema>): void {
  checkFormat(owner, options.format, options.ingestApi)
  if (options.stream === false) {
    throw configError(owner, { option: 'stream' }, 'option', 'a pipeline always has a stream (got false)', 'remove stream: false, or pass true or { parallelism, retentionPeriod }')
  }
  for (const option of ['stream', 'table'] as const) {
    const value: unknown = options[option]
    if (value !== undefined && typeof value !== 'boolean' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw configError(owner, { option }, 'option', `must be true, false or an options object (got ${describe(value)})`, `pass ${option}: true for the defaults, or an options object`)
    }
  }
  for (const option of ['ingestApi', 'deadLetterQueue'] as const) {
    const value: unknown = options[option]
    if (value !== undefined && typeof value !== 'boolean') {
      throw configError(owner, { option }, 'option', `must be true or false (got ${describe(value)})`, `set ${option}: true or false, or leave it out for true`)
    }
  }
  if (options.constraints !== undefined && !Array.isArray(options.constraints)) {
    throw configError(owner, { option: 'constraints' }, 'option', `must be an array (got ${describe(options.constraints)})`, 'pass constraints: [ ... ], or leave it out')
  }
}

function configObject<C>(value: C | boolean | undefined): C | Record<string, never> {
  return typeof value === 'object' && value !== null ? value : {}
}
