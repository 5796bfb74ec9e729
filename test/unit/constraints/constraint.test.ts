import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Constraint, IngestPipeline, Key, t } from '../../../src/index.ts'
import { pipelineConstraints } from '../../../src/constraints/check.ts'

const make = (options: Record<string, unknown>) => () => new Constraint(options as never)

test('a constraint gets its defaults: enabled, priority 0, throttle for rate and resource, dead_letter for validation', () => {
  const rate = new Constraint({ name: 'r', type: 'rate', config: { max_events_per_second: 10 } })
  assert.deepEqual(rate.spec, { name: 'r', type: 'rate', config: { max_events_per_second: 10 }, enabled: true, priority: 0, action: 'throttle' })
  assert.equal(new Constraint({ name: 'v', type: 'validation', config: { rules: { a: { required: true } } } }).spec.action, 'dead_letter')
  assert.equal(new Constraint({ name: 'm', type: 'resource', config: { max_memory_mb: 512 } }).spec.action, 'throttle')
})

test('load-time errors name the constraint, the option and the rule, in exact words', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ name: 'x', type: 'speed', config: {} }, 'constraint "x": option "type": unknown type "speed"; use one of rate, validation, resource'],
    [{ name: 'x', type: 'rate', config: { max_events_per_second: 10, burst: 5 } }, 'constraint "x": option "config.burst": unknown key; use one of max_events_per_second, max_events_per_minute, group_by'],
    [{ name: 'x', type: 'rate', config: { max_events_per_second: 0 } }, 'constraint "x": option "config.max_events_per_second": must be a positive number of events per second (got 0); set a limit above 0, or leave max_events_per_second out'],
    [{ name: 'x', type: 'rate', config: { max_events_per_minute: -5 } }, 'constraint "x": option "config.max_events_per_minute": must be a positive number of events per minute (got -5); set a limit above 0, or leave max_events_per_minute out'],
    [{ name: 'x', type: 'rate', config: {} }, 'constraint "x": option "config": a rate constraint needs max_events_per_second or max_events_per_minute; set at least one of them'],
    [{ name: 'x', type: 'rate', config: { max_events_per_second: 1, group_by: [] } }, 'constraint "x": option "config.group_by": must be a non-empty list of field names (got []); pass e.g. group_by: ["user_id"], or leave it out for one limit over all records'],
    [{ name: 'x', type: 'resource', config: { max_memory_mb: -1 } }, 'constraint "x": option "config.max_memory_mb": must be a positive number of MiB (got -1); set a limit above 0, or leave max_memory_mb out'],
    [{ name: 'x', type: 'resource', config: { max_processing_time_ms: 0 } }, 'constraint "x": option "config.max_processing_time_ms": must be a positive number of milliseconds (got 0); set a limit above 0, or leave max_processing_time_ms out'],
    [{ name: 'x', type: 'resource', config: { max_cpu_percent: 150 } }, 'constraint "x": option "config.max_cpu_percent": must be at most 100 (got 150); give a percent of the whole machine, 1 to 100'],
    [{ name: 'x', type: 'resource', config: { max_disk_mb: 5 } }, 'constraint "x": option "config.max_disk_mb": unknown key; use one of max_memory_mb, max_memory_per_event_kb, max_cpu_percent, max_processing_time_ms'],
    [{ name: 'x', type: 'validation', config: { rules: {} } }, 'constraint "x": option "config.rules": must map field names to rules (got {}); pass rules: { user_id: { required: true, pattern: "..." } }'],
    [{ name: 'x', type: 'validation', config: { rules: { a: { regex: '.' } } } }, 'constraint "x": option "config.rules.a.regex": unknown key; use one of required, pattern, enum, format, min, max, max_size'],
    [{ name: 'x', type: 'validation', config: { rules: { a: { max_size: 0 } } } }, 'constraint "x": option "config.rules.a.max_size": must be a positive number of bytes (got 0); set a limit above 0, or leave max_size out'],
    [{ name: 'x', type: 'validation', config: { rules: { a: { format: 'date' } } } }, 'constraint "x": option "config.rules.a.format": unknown format "date"; use format: "iso8601"'],
    [{ name: 'x', type: 'validation', config: { rules: { a: { min: 5, max: 1 } } } }, 'constraint "x": option "config.rules.a": min 5 is above max 1; swap them or fix one'],
    [{ name: 'x', type: 'validation', action: 'throttle', config: { rules: { a: { required: true } } } }, 'constraint "x": option "action": a validation constraint cannot throttle; use dead_letter (the default) or drop'],
    [{ name: 'x', type: 'rate', action: 'retry', config: { max_events_per_second: 1 } }, 'constraint "x": option "action": unknown action "retry"; use one of throttle, dead_letter, drop'],
    [{ name: 'x', type: 'rate', priority: 1.5, config: { max_events_per_second: 1 } }, 'constraint "x": option "priority": must be an integer (got 1.5); higher numbers run first; leave it out for 0'],
  ]
  for (const [options, message] of cases) assert.throws(make(options), { name: 'ConfigError', message })
})

test('a pipeline rejects two constraints with one name and a group_by field its schema lacks', () => {
  const schema = t.Object({ id: Key(t.String()), user_id: t.String() })
  const a = new Constraint({ name: 'r', type: 'rate', config: { max_events_per_second: 1 } })
  const twice = new IngestPipeline('p_twice', { schema, constraints: [a, a] })
  assert.throws(() => pipelineConstraints(twice), { message: 'pipeline "p_twice": option "constraints": constraint "r" is attached twice; give each constraint of a pipeline its own name' })
  const byMissing = new IngestPipeline('p_missing', { schema, constraints: [new Constraint({ name: 'r', type: 'rate', config: { max_events_per_second: 1, group_by: ['tenant'] } })] })
  assert.throws(() => pipelineConstraints(byMissing), { message: 'pipeline "p_missing": constraint "r": option "config.group_by": field "tenant" is not in the pipeline\'s schema; group by top-level fields of the schema' })
  const notOne = new IngestPipeline('p_bad', { schema, constraints: [{ name: 'r' }] })
  assert.throws(() => pipelineConstraints(notOne), { message: 'pipeline "p_bad": option "constraints": item 0 is not a Constraint; create it with new Constraint({ name, type, config })' })
})

test('the programmatic handle explains when the constraint is not running in a daemon', async () => {
  const c = new Constraint({ name: 'idle', type: 'rate', config: { max_events_per_second: 1 } })
  await assert.rejects(c.disable(), { message: 'constraint "idle" is not running: start a daemon with the pipeline that carries it' })
})

test('a validation rule naming a field the schema lacks, misspelled or nested, is refused at load with its name', () => {
  const schema = t.Object({ id: Key(t.String()), properties: t.Object({ mag: t.Number(), place: t.String() }) })
  const rule = (field: string) => new IngestPipeline('quakes', { schema, constraints: [new Constraint({ name: 'mag', type: 'validation', config: { rules: { [field]: { min: 0 } } } })] })
  assert.equal(pipelineConstraints(rule('properties.mag')).length, 1)
  for (const field of ['properties.mgn', 'mag']) {
    assert.throws(() => pipelineConstraints(rule(field)), {
      message: `pipeline "quakes": constraint "mag": option "config.rules": field "${field}" is not in the pipeline's schema; name a field of the schema, nested fields as dotted paths ("id", "properties", "properties.mag", "properties.place")`,
    })
  }
})
