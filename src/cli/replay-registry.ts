/**
 * `flowhouse replay --format avro`: the registry, subject and Avro schema a replay encodes with,
 * taken from the pipeline module (its `format: { schemaRegistry }` and its schema) unless given
 * on the command line.
 */
import { readFile } from 'node:fs/promises'
import { FlowhouseError, messageOf } from '../errors.ts'
import { avroSchemaOf, type AvroRecordSchema } from '../model/avro.ts'
import { registryOf } from '../model/format.ts'
import type { SchemaRegistryFormat } from '../model/types.ts'
import { loadPipelines } from '../pipelines/loader.ts'
import type { ReplayRegistry } from '../replay/types.ts'

export interface RegistryReplayOptions {
  pipeline: string
  /** Folder of the pipeline modules (to find the pipeline's schema and registry). */
  pipelinesDir: string
  /** `--subject`. @default the pipeline's format subject, else `<pipeline>-value` */
  subject?: string
  /** `--registry`: the registry URL. @default the pipeline's format url */
  registry?: string
  /** `--schema`: a file holding an Avro record schema (JSON). @default derived from the pipeline schema (model/avro.ts) */
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
  let schema: AvroRecordSchema
  if (options.schemaFile !== undefined) {
    try {
      schema = JSON.parse(await readFile(options.schemaFile, 'utf8')) as AvroRecordSchema
    } catch (error) {
      throw new FlowhouseError('BAD_REQUEST', `--schema ${options.schemaFile}: ${messageOf(error)}`)
    }
  } else {
    schema = avroSchemaOf(pipeline!.name, pipeline!.schema)
  }
  return { registry, subject: options.subject ?? declared?.subject ?? `${options.pipeline}-value`, schema }
}
