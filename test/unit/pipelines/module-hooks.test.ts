import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import nodeModule from 'node:module'
import path from 'node:path'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { resolve, resolveSync, type Resolved } from '../../../src/util/module-hooks.mjs'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const next = (url: string, format: string | undefined) => async (): Promise<Resolved> => ({ url, ...(format ? { format } : {}) })
const nextSync = (url: string, format: string | undefined) => (): Resolved => ({ url, ...(format ? { format } : {}) })

test("'flowhouse' resolves to this copy's entry point from any importer, in both chains", async () => {
  const entry = { url: pathToFileURL(path.join(ROOT, 'src/index.ts')).href, format: 'module', shortCircuit: true }
  assert.deepEqual(await resolve('flowhouse', { parentURL: 'file:///srv/pipelines/orders.ts' }, next('file:///elsewhere.js', 'module')), entry)
  assert.deepEqual(resolveSync('flowhouse', { parentURL: 'file:///srv/pipelines/orders.ts' }, nextSync('file:///elsewhere.js', 'module')), entry)
})

test('a .ts module outside node_modules loads as an ES module whatever the nearest package.json says, in both chains', async () => {
  assert.deepEqual(await resolve('./orders.ts', {}, next('file:///srv/pipelines/orders.ts?v=1', 'commonjs')), { url: 'file:///srv/pipelines/orders.ts?v=1', format: 'module' })
  assert.deepEqual(await resolve('x', {}, next('file:///app/node_modules/x/index.ts', 'commonjs')), { url: 'file:///app/node_modules/x/index.ts', format: 'commonjs' })
  assert.deepEqual(await resolve('./a.js', {}, next('file:///srv/a.js', 'commonjs')), { url: 'file:///srv/a.js', format: 'commonjs' })
  assert.deepEqual(resolveSync('./orders.ts', {}, nextSync('file:///srv/pipelines/orders.ts?v=1', 'commonjs')), { url: 'file:///srv/pipelines/orders.ts?v=1', format: 'module' })
  assert.deepEqual(resolveSync('./a.js', {}, nextSync('file:///srv/a.js', 'commonjs')), { url: 'file:///srv/a.js', format: 'commonjs' })
})

/** Runs `script` in a plain Node child (no TypeScript loader); returns what it printed. */
function child(script: string): Promise<string> {
  return new Promise((done, fail) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout)))
  })
}

test('registered before the TypeScript loader where Node has module.registerHooks, the hooks run in the loading thread: no hooks thread is started', async () => {
  const hooks = pathToFileURL(path.join(ROOT, 'src/util/module-hooks.mjs')).href
  const script = (options: string) => `
    import { readdirSync } from 'node:fs'
    const { registerResolutionHooks } = await import(${JSON.stringify(hooks)})
    const before = readdirSync('/proc/self/task').length
    registerResolutionHooks(${options})
    const resolved = import.meta.resolve('flowhouse')
    console.log(JSON.stringify({ threads: readdirSync('/proc/self/task').length - before, resolved }))`
  type Report = { threads: number; resolved: string }
  const entry = pathToFileURL(path.join(ROOT, 'src/index.ts')).href
  const inThread = JSON.parse(await child(script('{ beforeTypeScript: true }'))) as Report
  const offThread = JSON.parse(await child(script('{}'))) as Report
  assert.equal(inThread.resolved, entry)
  assert.equal(offThread.resolved, entry)
  // module.register always starts Node's hooks thread; registerHooks (Node 22.15, 23.5 and later) never does.
  assert.ok(offThread.threads >= 1, `module.register started ${offThread.threads} threads`)
  if (typeof (nodeModule as { registerHooks?: unknown }).registerHooks === 'function') assert.equal(inThread.threads, 0)
  else assert.ok(inThread.threads >= 1, 'without registerHooks the hooks go through module.register')
})
