import assert from 'node:assert/strict'
import { test } from 'node:test'
import { followLauncher } from '../../../src/cli/launcher.ts'

const until = async (cond: () => boolean, ms = 2_000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

test('a daemon launched by npm stops once its launcher process is gone', async () => {
  let ppid = 100
  let gone = 0
  followLauncher(() => gone++, { env: { npm_command: 'exec' }, parentPid: () => ppid, intervalMs: 5 })
  await new Promise((r) => setTimeout(r, 30))
  assert.equal(gone, 0)
  ppid = 1
  await until(() => gone === 1)
  await new Promise((r) => setTimeout(r, 30))
  assert.equal(gone, 1)
})

test('a daemon started directly keeps running when its parent goes away', async () => {
  let ppid = 100
  let gone = 0
  followLauncher(() => gone++, { env: {}, parentPid: () => ppid, intervalMs: 5 })
  ppid = 1
  await new Promise((r) => setTimeout(r, 40))
  assert.equal(gone, 0)
})
