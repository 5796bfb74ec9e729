// Module resolution hooks of the flowhouse process, registered once per thread:
//  - the specifier `flowhouse` (and `flowhouse/...` subpaths of the package's exports) resolves to
//    this running copy of flowhouse, wherever the importing module lives: a pipelines folder in the
//    user's own project, a container mount, or a folder with no package.json above it;
//  - a `.ts` module outside node_modules is an ES module whatever the nearest package.json says
//    (without "type": "module" above it, Node would treat it as CommonJS and fail on the first
//    `import { type ... }` with "Unexpected identifier").
// Where Node has module.registerHooks (22.15, 23.5 and later) and the hooks are registered before
// the TypeScript loader, they run in the thread that loads the modules; otherwise they go through
// module.register and run on Node's hooks thread, where every resolution is a synchronous round
// trip between threads. Plain JavaScript: it runs before any TypeScript loader exists.
import nodeModule from 'node:module'

const ENTRY = new URL('../index.ts', import.meta.url).href
const PACKAGE_JSON = new URL('../../package.json', import.meta.url).href
const TYPESCRIPT = /\.ts(?:\?.*)?$/
const REGISTERED = Symbol.for('flowhouse.moduleHooks')

/** The resolution of `specifier` by flowhouse alone, or undefined to ask the next hook. */
function own(specifier) {
  if (specifier === 'flowhouse') return { url: ENTRY, format: 'module', shortCircuit: true }
  if (specifier === 'flowhouse/package.json') return { url: PACKAGE_JSON, format: 'json', shortCircuit: true }
  return undefined
}

/** The next hook's resolution, with a `.ts` file outside node_modules loaded as an ES module. */
function asModule(resolved) {
  if (TYPESCRIPT.test(resolved.url) && resolved.url.startsWith('file:') && !resolved.url.includes('/node_modules/') && resolved.format !== 'module') {
    return { ...resolved, format: 'module' }
  }
  return resolved
}

/** The resolve hook for module.register (asynchronous chain). */
export async function resolve(specifier, context, nextResolve) {
  return own(specifier) ?? asModule(await nextResolve(specifier, context))
}

/** The resolve hook for module.registerHooks (synchronous chain, in the loading thread). */
export function resolveSync(specifier, context, nextResolve) {
  return own(specifier) ?? asModule(nextResolve(specifier, context))
}

/**
 * Registers the hooks in the calling thread unless they already are (a flag on globalThis, one per
 * thread). The TypeScript loader (tsx) must run before them in the chain: tsx gives a `.ts` file
 * that Node would read as CommonJS a CommonJS URL of its own unless the next resolution it sees
 * already says `module`. Hooks chain last registered first, and synchronous hooks
 * (module.registerHooks) before asynchronous ones (module.register). So:
 * - `beforeTypeScript` true (nothing is registered yet, the loader comes next): in-thread through
 *   module.registerHooks where Node has it (22.15, 23.5 and later), else module.register;
 * - false (a loader is already there, e.g. `node --import tsx`): module.register, whose hooks run
 *   after every synchronous hook and after the asynchronous ones registered earlier.
 * @param {{ beforeTypeScript?: boolean }} [options]
 */
export function registerResolutionHooks({ beforeTypeScript = false } = {}) {
  if (globalThis[REGISTERED]) return
  globalThis[REGISTERED] = true
  if (beforeTypeScript && typeof nodeModule.registerHooks === 'function') nodeModule.registerHooks({ resolve: resolveSync })
  else nodeModule.register('./module-hooks.mjs', import.meta.url)
}
