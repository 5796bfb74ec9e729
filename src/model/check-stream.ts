/**
 * Rules for streams: their options and their schema. Used by the Stream constructor and by
 * checkDefinitions.
 */
import type { TSchema } from '@sinclair/typebox'
import { configError, describe, type Owner } from './config-error.ts'
import { checkKeys } from './keys.ts'
import { STREAM_DEFAULTS } from './options.ts'
import { checkSchemaTypes } from './typemap.ts'
import type { StreamConfig } from './types.ts'

/** Stream options with defaults filled in (parallelism 1, retentionPeriod 604_800 s). Does not validate. */
export function resolveStreamConfig(config: StreamConfig = {}): Required<StreamConfig> {
  return {
    parallelism: config.parallelism === undefined ? STREAM_DEFAULTS.parallelism : config.parallelism,
    retentionPeriod: config.retentionPeriod === undefined ? STREAM_DEFAULTS.retentionPeriod : config.retentionPeriod,
  }
}

/**
 * `parallelism` is a positive integer and `retentionPeriod` a positive integer number of
 * seconds (contract: stream configuration). Throws ConfigError (rule `parallelism` or
 * `retention-period`).
 */
export function checkStreamConfig(owner: Owner, config: Required<StreamConfig>): void {
  if (!isPositiveInteger(config.parallelism)) {
    throw configError(owner, { option: 'parallelism' }, 'parallelism', `must be a positive integer (got ${describe(config.parallelism)})`, 'set it to 1 or more, or leave it out for 1')
  }
  if (!isPositiveInteger(config.retentionPeriod)) {
    throw configError(owner, { option: 'retentionPeriod' }, 'retention-period', `must be a positive integer number of seconds (got ${describe(config.retentionPeriod)})`, 'give it in whole seconds, e.g. 86400 for one day, or leave it out for 604800 (7 days)')
  }
}

/**
 * A stream's schema: supported types (optional arrays allowed, since a stream is not a
 * table) and at most one Key, at the top level. Throws ConfigError.
 */
export function checkStreamSchema(owner: Owner, schema: TSchema): void {
  checkSchemaTypes(schema, owner, { nullableArrays: true })
  checkKeys(owner, schema, false)
}

function isPositiveInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}
