/**
 * Load-time checks of the constraints attached to a pipeline (run by the module loader, so
 * `flowhouse check` reports them too).
 */
import { ConfigError } from '../errors.ts'
import type { IngestPipelineLike } from '../model/types.ts'
import { isConstraint, type Constraint } from './constraint.ts'
import { fieldAtPath, fieldPaths, listPaths } from '../model/paths.ts'

/** The top-level fields of a pipeline's schema (what a rate constraint may group by). */
export function schemaFields(pipeline: IngestPipelineLike): ReadonlySet<string> {
  return new Set(Object.keys((pipeline.schema as { properties?: Record<string, unknown> }).properties ?? {}))
}

/**
 * @returns the pipeline's constraints.
 * @throws ConfigError when an entry is not a Constraint, two share a name, or a rate
 *   constraint groups by a field the pipeline's schema does not have, or a validation rule names
 *   a field (a dotted path for nested fields, `'properties.mag'`) that the schema does not have.
 */
export function pipelineConstraints(pipeline: IngestPipelineLike): Constraint[] {
  const list = pipeline.constraints ?? []
  const names = new Set<string>()
  const fields = schemaFields(pipeline)
  return list.map((c, i) => {
    if (!isConstraint(c)) {
      throw new ConfigError(`pipeline "${pipeline.name}": option "constraints": item ${i} is not a Constraint; create it with new Constraint({ name, type, config })`, { pipeline: pipeline.name, rule: 'constraint' })
    }
    if (names.has(c.name)) {
      throw new ConfigError(`pipeline "${pipeline.name}": option "constraints": constraint "${c.name}" is attached twice; give each constraint of a pipeline its own name`, { pipeline: pipeline.name, rule: 'constraint' })
    }
    names.add(c.name)
    if (c.spec.type === 'rate') {
      for (const field of c.spec.config.group_by ?? []) {
        if (!fields.has(field)) {
          throw new ConfigError(`pipeline "${pipeline.name}": constraint "${c.name}": option "config.group_by": field "${field}" is not in the pipeline's schema; group by top-level fields of the schema`, { pipeline: pipeline.name, constraint: c.name, rule: 'constraint' })
        }
      }
    }
    if (c.spec.type === 'validation') {
      for (const field of Object.keys(c.spec.config.rules ?? {})) {
        if (fieldAtPath(pipeline.schema, field) === undefined) {
          throw new ConfigError(
            `pipeline "${pipeline.name}": constraint "${c.name}": option "config.rules": field "${field}" is not in the pipeline's schema; name a field of the schema, nested fields as dotted paths (${listPaths(fieldPaths(pipeline.schema))})`,
            { pipeline: pipeline.name, constraint: c.name, field, rule: 'constraint' },
          )
        }
      }
    }
    return c
  })
}
