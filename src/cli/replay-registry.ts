/**
 * `flowhouse replay --format avro|json-schema|protobuf`: the registry, subject and schema a replay encodes with,
 * taken from the pipeline module (its `format: { schemaRegistry }` and its schema) unless given
 * on the command line.
 */
import { readFile } from 'node:fs/promises'
import { FlowhouseError, messageOf } from '../errors.ts'
import { avroSchemaOf } from '../model/avro.ts'
import { registryOf } from '../model/format.ts'
import { jsonSchemaOf, protoSchemaOf } from '../model/registry-schemas.ts'
import type { SchemaRegistryFormat } from '../model/types.ts'
import { loadPipelines } from '../pipelines/loader.ts'
import type { ReplayRegistry } from '../replay/types.ts'

/** `--format` values that go through a schema registry, and the registry's schema type for each. */
export const REGISTRY_FORMATS = { avro: 'AVRO', 'json-schema': 'JSON', protobuf: 'PROTOBUF' } as const

export interface RegistryReplayOptions {
  pipeline: string
  format: keyof typeof REGISTRY_FORMATS
  /** Folder of the pipeline modules (to find the pipeline's schema and registry). */
  pipelinesDir: string
  /** `--subject`. @default the pipeline's format subject, else `<pipeline>-value` */
  subject?: string
  /** `--registry`: the registry URL. @default the pipeline's format url */
  registry?: string
  /** `--schema`: a file holding the schema (Avro JSON, JSON Schema or proto3 text). @default derived from the pipeline schema (model/avro.ts, model/registry-schemas.ts) */
  schemaFile?: string
}

/**
 * Resolves what a registry replay encodes with.
 * @throws FlowhouseError BAD_REQUEST when the pipeline is not found in the folder (or its module
 *   fails to load), when no registry URL is known, or when the schema file is not JSON.
 */
export async function registryReplayTarget(options: RegistryReplayOptions): Promise<ReplayRegistry> {
  const modules = await loadPipelines(options.pipelinesDir)
  const pipeline = modules.flatMap((m) => m.defs?.pipelines ?? []).find((p) => p.name === options.pipeline)
  if (!pipeline && options.schemaFile === undefined) {
    const failed = modules.filter((m) => m.error).map((m) => `${m.file}: ${m.error}`)
    throw new FlowhouseError('BAD_REQUEST', `pipeline "${options.pipeline}" is not declared by a module of ${options.pipelinesDir}${failed.length > 0 ? ` (modules that failed to load: ${failed.join('; ')})` : ''}; pass --pipelines <dir>, or --schema <file.avsc> and --registry <url>`)
  }
  const declared = registryOf(pipeline?.format)
  const url = options.registry ?? declared?.url
  if (url === undefined) throw new FlowhouseError('BAD_REQUEST', `pipeline "${options.pipeline}" has no schema registry format: pass --registry <url>`)
  const registry: SchemaRegistryFormat = { ...declared, url }
  const schemaType = REGISTRY_FORMATS[options.format]
  let schema: string
  if (options.schemaFile !== undefined) {
    try {
      schema = await readFile(options.schemaFile, 'utf8')
      if (schemaType !== 'PROTOBUF') JSON.parse(schema)
    } catch (error) {
      throw new FlowhouseError('BAD_REQUEST', `--schema ${options.schemaFile}: ${messageOf(error)}`)
    }
  } else if (schemaType === 'AVRO') {
    schema = JSON.stringify(avroSchemaOf(pipeline!.name, pipeline!.schema))
  } else if (schemaType === 'JSON') {
    schema = JSON.stringify(jsonSchemaOf(pipeline!.schema))
  } else {
    schema = protoSchemaOf(pipeline!.name, pipeline!.schema)
  }
  return { registry, subject: options.subject ?? declared?.subject ?? `${options.pipeline}-value`, schemaType, schema }
}
