// Registers, once per thread, the TypeScript loader (tsx) and flowhouse's resolution hooks
// (module-hooks.mjs). Imported by the command's entry point and by every worker thread entry;
// the pipeline loader registers the resolution hooks itself when they are missing (same flag).
import { register } from 'node:module'
import { register as registerTypeScript } from 'tsx/esm/api'

const TYPESCRIPT = Symbol.for('flowhouse.typescriptHooks')
const RESOLUTION = Symbol.for('flowhouse.moduleHooks')
if (!globalThis[TYPESCRIPT]) {
  globalThis[TYPESCRIPT] = true
  registerTypeScript()
}
if (!globalThis[RESOLUTION]) {
  globalThis[RESOLUTION] = true
  register('./module-hooks.mjs', import.meta.url)
}
