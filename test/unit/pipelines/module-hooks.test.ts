import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
// @ts-expect-error plain JavaScript hooks module, without type declarations
import { resolve } from '../../../src/util/module-hooks.mjs'

const ROOT = path.resolve(import.meta.dirname, '../../..')
type Resolved = { url: string; format?: string; shortCircuit?: boolean }
const next = (url: string, format: string | undefined) => async (): Promise<Resolved> => ({ url, ...(format ? { format } : {}) })

test("'flowhouse' resolves to this copy's entry point from any importer", async () => {
  const got = (await resolve('flowhouse', { parentURL: 'file:///srv/pipelines/orders.ts' }, next('file:///elsewhere.js', 'module'))) as Resolved
  assert.deepEqual(got, { url: pathToFileURL(path.join(ROOT, 'src/index.ts')).href, format: 'module', shortCircuit: true })
})

test('a .ts module outside node_modules loads as an ES module whatever the nearest package.json says', async () => {
  assert.deepEqual(await resolve('./orders.ts', {}, next('file:///srv/pipelines/orders.ts?v=1', 'commonjs')), { url: 'file:///srv/pipelines/orders.ts?v=1', format: 'module' })
  assert.deepEqual(await resolve('x', {}, next('file:///app/node_modules/x/index.ts', 'commonjs')), { url: 'file:///app/node_modules/x/index.ts', format: 'commonjs' })
  assert.deepEqual(await resolve('./a.js', {}, next('file:///srv/a.js', 'commonjs')), { url: 'file:///srv/a.js', format: 'commonjs' })
})
