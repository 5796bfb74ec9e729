import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, test } from 'node:test'
import { FlowhouseError } from '../../../src/errors.ts'
import { armFailpoints, failpoint, failpointOn, FailpointError, parseFailpoints, STALL_MS } from '../../../src/util/failpoints.ts'

afterEach(() => armFailpoints(undefined))

test('an unset or empty FLOWHOUSE_FAILPOINTS arms nothing and every step passes', () => {
  armFailpoints('')
  assert.doesNotThrow(() => failpoint('delivery.after-insert'))
  assert.equal(failpointOn('delivery.no-dedup-token'), false)
})

test('a failpoint armed with error throws a retriable FailpointError once, on the hit it names', () => {
  armFailpoints('delivery.after-insert=error@2')
  assert.doesNotThrow(() => failpoint('delivery.after-insert'))
  assert.doesNotThrow(() => failpoint('delivery.after-pending-commit'))
  const error = (() => {
    try {
      failpoint('delivery.after-insert', { partition: 1 })
    } catch (e) {
      return e
    }
  })()
  assert.ok(error instanceof FailpointError && error instanceof FlowhouseError)
  assert.equal(error.code, 'FAILPOINT')
  assert.equal(error.retriable, true)
  assert.deepEqual(error.context, { failpoint: 'delivery.after-insert', partition: 1 })
  assert.doesNotThrow(() => failpoint('delivery.after-insert'), 'fires once')
})

test('a failpoint armed with stall makes its step wait STALL_MS once, on the hit it names, and never throws', async () => {
  armFailpoints('delivery.after-insert=stall@2')
  assert.equal(failpoint('delivery.after-insert'), undefined)
  const started = performance.now()
  const stalled = failpoint('delivery.after-insert', { partition: 1 })
  assert.ok(stalled instanceof Promise)
  await stalled
  assert.ok(performance.now() - started >= STALL_MS - 50, `waited ${performance.now() - started} ms`)
  assert.equal(failpoint('delivery.after-insert'), undefined, 'fires once')
})

test('a switch armed with on is read by failpointOn and never throws', () => {
  armFailpoints('delivery.no-dedup-token=on')
  assert.equal(failpointOn('delivery.no-dedup-token'), true)
  assert.equal(failpointOn('backfill.no-dedup-token'), false)
  assert.doesNotThrow(() => failpoint('delivery.no-dedup-token'))
})

test('unknown failpoints, actions and hits are refused with the entry named', () => {
  assert.throws(() => parseFailpoints('delivery.after-nothing=exit'), /unknown failpoint "delivery.after-nothing"; known: delivery.after-pending-commit/)
  assert.throws(() => parseFailpoints('delivery.after-insert=crash'), /"delivery.after-insert=crash" is not <name>=exit\|error\|stall\|on\[@<hit>\]/)
  assert.throws(() => parseFailpoints('delivery.after-insert=exit@0'), /the hit must be a positive integer/)
  assert.deepEqual([...parseFailpoints(' backfill.after-insert=exit@3 , delivery.after-dlq=error ')], [
    ['backfill.after-insert', { action: 'exit', at: 3 }],
    ['delivery.after-dlq', { action: 'error', at: 1 }],
  ])
})

test('a failpoint armed with exit kills the process with SIGKILL after writing one line to stderr', () => {
  const code = `import { failpoint } from './src/util/failpoints.ts'; failpoint('delivery.after-insert', { first: 7 }); console.log('survived')`
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: fileURLToPath(new URL('../../../', import.meta.url)),
    env: { ...process.env, FLOWHOUSE_FAILPOINTS: 'delivery.after-insert=exit' },
    encoding: 'utf8',
  })
  assert.equal(child.signal, 'SIGKILL')
  assert.equal(child.stdout, '')
  assert.deepEqual(JSON.parse(child.stderr.trim()), { failpoint: 'delivery.after-insert', action: 'exit', hit: 1, pid: child.pid, first: 7 })
})
