import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CONFIG_BOUNDS, checkConfig } from '../../../src/constraints/constraint.ts'
import { ConfigError } from '../../../src/errors.ts'

const refused = (type: 'rate' | 'validation' | 'resource', config: unknown, fields?: ReadonlySet<string>, text?: RegExp) =>
  assert.throws(() => checkConfig('c', type, config, fields), (e: unknown) => e instanceof ConfigError && (text === undefined || text.test(e.message)), JSON.stringify(config))

describe('constraint config bounds', () => {
  test('max_events_per_second of 1e308 and of 0.000001 are refused with the documented bounds', () => {
    refused('rate', { max_events_per_second: 1e308 }, undefined, /option "config\.max_events_per_second": must be from 0\.01 to 10000000 events per second \(got 1e\+308\)/)
    refused('rate', { max_events_per_second: 0.000001 }, undefined, /must be from 0\.01 to 10000000/)
    assert.deepEqual(checkConfig('c', 'rate', { max_events_per_second: 0.01 }), { max_events_per_second: 0.01 })
    assert.deepEqual(checkConfig('c', 'rate', { max_events_per_second: 10_000_000 }), { max_events_per_second: 10_000_000 })
  })

  test('every bounded option refuses a value just outside its bounds', () => {
    for (const [option, [min, max]] of Object.entries(CONFIG_BOUNDS)) {
      if (option === 'max_size') {
        refused('validation', { rules: { f: { max_size: max + 1 } } })
        continue
      }
      const type = option.startsWith('max_events') ? 'rate' : 'resource'
      refused(type, { [option]: max * 2 })
      refused(type, { [option]: min / 2 })
    }
  })

  test('__proto__, constructor and other Object.prototype names are refused as group_by and rule fields', () => {
    for (const field of ['__proto__', 'constructor', 'valueOf', 'hasOwnProperty', 'a.b', '']) {
      refused('rate', { max_events_per_second: 10, group_by: [field] })
    }
    refused('validation', JSON.parse('{"rules": {"__proto__": {"required": true}}}'))
    refused('validation', { rules: { constructor: { required: true } } })
  })

  test('group_by fields must be fields of the schema when the schema is known', () => {
    const fields = new Set(['user_id', 'country'])
    assert.deepEqual(checkConfig('c', 'rate', { max_events_per_second: 5, group_by: ['user_id'] }, fields), { max_events_per_second: 5, group_by: ['user_id'] })
    refused('rate', { max_events_per_second: 5, group_by: ['missing'] }, fields, /field "missing" is not in the pipeline's schema; use one of user_id, country/)
  })
})
