/**
 * Discovery and loading of pipeline modules. Every `.ts`, `.mts`, `.js` or `.mjs` file directly
 * in the pipelines folder is a module (names starting with `_` or `.`, and `.d.ts` files, are
 * skipped). A module that fails to import or to pass the configuration checks is reported and
 * not started; the others run.
 *
 * Modules may live anywhere (a user's project, a container mount, a folder without package.json):
 * `import ... from 'flowhouse'` resolves to this running copy of flowhouse and `.ts` files load as
 * ES modules, through the hooks of src/util/module-hooks.mjs (registered by the command's entry
 * point, or here when the process started another way).
 */
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { pipelineConstraints } from '../constraints/check.ts'
import { checkDefinitions } from '../model/check.ts'
import { collectDefinitions } from '../model/collect.ts'
import type { ModuleDefinitions } from '../model/types.ts'
import { messageOf } from '../errors.ts'
import { registerResolutionHooks } from '../util/module-hooks.mjs'

export interface LoadedModule {
  /** Absolute path of the module file. */
  file: string
  /** Module version: its modification time in ms, as a string. Workers import the same version. */
  version: string
  /** Definitions, when the module loaded and passed the checks. */
  defs?: ModuleDefinitions
  /** Why the module is not running (import error or configuration error message). */
  error?: string
  /** Why a newer version of this running module was refused (hot reload); the loaded version keeps running. */
  reloadError?: string
}

const MODULE_FILE = /^[^_.].*\.(ts|mts|js|mjs)$/

/** Lists module files in `dir`, sorted by name. @throws when the folder cannot be read. */
export async function listModules(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && MODULE_FILE.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(dir, e.name))
    .sort()
}

/**
 * Imports one module (cache-busted by version) and checks it.
 * @returns a LoadedModule with `defs`, or with `error` when it failed; never throws.
 */
export async function loadModule(file: string): Promise<LoadedModule> {
  let version = '0'
  registerResolutionHooks()
  try {
    version = String(Math.floor((await stat(file)).mtimeMs))
    const mod = (await import(`${pathToFileURL(file).href}?v=${version}`)) as Record<string, unknown>
    const defs = collectDefinitions(file, mod)
    checkDefinitions(defs)
    for (const p of defs.pipelines) pipelineConstraints(p)
    return { file, version, defs }
  } catch (error) {
    return { file, version, error: messageOf(error) }
  }
}

/** Loads every module of the folder. @throws when the folder cannot be read. */
export async function loadPipelines(dir: string): Promise<LoadedModule[]> {
  const files = await listModules(dir)
  return Promise.all(files.map(loadModule))
}
