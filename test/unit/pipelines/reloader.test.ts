/**
 * Hot reload against a stub daemon (ReloadTarget): the real folder listing, modification times
 * and module loading, with the daemon side replaced by a recorder.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, unlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import type { LoadedModule } from '../../../src/pipelines/loader.ts'
import { ModuleReloader, type ReloadTarget } from '../../../src/pipelines/reloader.ts'

/** A module that declares nothing: it loads without Kafka or ClickHouse. */
const EMPTY_MODULE = 'export const nothing = 1\n'

class Recorder implements ReloadTarget {
  loadedModules: LoadedModule[] = []
  calls: string[] = []
  /** Files whose next version the stub refuses (it keeps the running one, as the lifecycle does). */
  refuse = new Set<string>()
  async addModule(m: LoadedModule): Promise<void> {
    this.calls.push(`add ${path.basename(m.file)}${m.error ? ' (error)' : ''}`)
    this.loadedModules.push(m)
  }
  async replaceModule(m: LoadedModule): Promise<void> {
    this.calls.push(`replace ${path.basename(m.file)}`)
    if (this.refuse.has(m.file)) return
    this.loadedModules = this.loadedModules.map((old) => (old.file === m.file ? m : old))
  }
  async removeModule(file: string): Promise<void> {
    this.calls.push(`remove ${path.basename(file)}`)
    this.loadedModules = this.loadedModules.filter((m) => m.file !== file)
  }
}

async function touch(file: string, seconds: number): Promise<void> {
  const t = new Date(Date.UTC(2026, 0, 1, 0, 0, seconds))
  await utimes(file, t, t)
}

test('hot reload: a new file is added, a changed one replaced, a refused version not retried until it changes again, a removed one stopped', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'flowhouse-reload-'))
  try {
    const a = path.join(dir, 'a.ts')
    await writeFile(a, EMPTY_MODULE)
    await touch(a, 1)
    await writeFile(path.join(dir, '_skipped.ts'), EMPTY_MODULE)
    await writeFile(path.join(dir, 'notes.md'), 'not a module')
    const target = new Recorder()
    const reloader = new ModuleReloader(target, dir, 60_000)

    await reloader.scan()
    assert.deepEqual(target.calls, ['add a.ts'])
    await reloader.scan()
    assert.deepEqual(target.calls, ['add a.ts'], 'an unchanged file is left alone')

    await touch(a, 2)
    await reloader.scan()
    assert.deepEqual(target.calls.slice(1), ['replace a.ts'])
    assert.equal(target.loadedModules[0]!.version, String(Date.UTC(2026, 0, 1, 0, 0, 2)))

    target.refuse.add(a)
    await touch(a, 3)
    await reloader.scan()
    await reloader.scan()
    assert.deepEqual(target.calls.slice(2), ['replace a.ts'], 'a refused version is tried once')
    target.refuse.clear()
    await touch(a, 4)
    await reloader.scan()
    assert.deepEqual(target.calls.slice(3), ['replace a.ts'], 'a newer version is tried again')

    const broken = path.join(dir, 'b.ts')
    await writeFile(broken, 'export const = broken\n')
    await reloader.scan()
    assert.deepEqual(target.calls.slice(4), ['add b.ts (error)'], 'a module that does not import is handed over with its error')

    await unlink(a)
    await reloader.scan()
    assert.deepEqual(target.calls.slice(5), ['remove a.ts'])
    assert.deepEqual(target.loadedModules.map((m) => path.basename(m.file)), ['b.ts'])
    await reloader.stop()
    await reloader.scan()
    assert.equal(target.calls.length, 6, 'a stopped reloader does nothing')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
