/**
 * `flowhouse check` as a user runs it: a process over a pipelines folder, no services. A module
 * breaking a configuration rule is named with the rule and how to fix it, the good ones are
 * summarised, and the exit code says whether every module passed.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
// Inside the project, so the modules resolve 'flowhouse'.
mkdirSync(path.join(ROOT, '.data', 'test'), { recursive: true })
const dir = mkdtempSync(path.join(ROOT, '.data', 'test', 'check-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const module = (name: string, orderBy: string) =>
  `import { IngestPipeline, Key, t } from 'flowhouse'\nexport const p = new IngestPipeline('${name}', { schema: t.Object({ id: Key(t.String()), n: t.Int32() }), table: { orderByFields: ${orderBy} } })\n`

function check(folder: string): { status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/flowhouse.js'), 'check', '--pipelines', folder], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, stdout: r.stdout }
}

test('flowhouse check exits 0 and summarises each module when every module passes', () => {
  const ok = path.join(dir, 'ok')
  mkdirSync(ok)
  writeFileSync(path.join(ok, 'good.ts'), module('chk_good', "['id']"))
  const r = check(ok)
  assert.equal(r.status, 0, r.stdout)
  assert.equal(r.stdout, `✓ ${path.join(ok, 'good.ts')}: 1 pipelines, 1 streams, 1 tables, 0 views\n`)
})

test('flowhouse check exits 1 and names the pipeline, the field, the rule and the fix of a module that breaks a rule', () => {
  const mixed = path.join(dir, 'mixed')
  mkdirSync(mixed)
  writeFileSync(path.join(mixed, 'good.ts'), module('chk_good', "['id']"))
  writeFileSync(path.join(mixed, 'bad.ts'), module('chk_bad', "['n', 'id']"))
  const r = check(mixed)
  assert.equal(r.status, 1, r.stdout)
  const rel = (f: string) => path.join(mixed, f)
  assert.equal(
    r.stdout,
    `✗ ${rel('bad.ts')}\n    pipeline "chk_bad": field "id": the Key field must be first in orderByFields; put "id" first, e.g. orderByFields: ["id", "n"]\n✓ ${rel('good.ts')}: 1 pipelines, 1 streams, 1 tables, 0 views\n`,
  )
})
