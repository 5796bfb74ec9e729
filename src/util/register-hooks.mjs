// Registers, once per thread, flowhouse's resolution hooks (module-hooks.mjs) and then the
// TypeScript loader (tsx), so that tsx runs first in the chain. Imported by the command's entry
// point and by every worker thread entry; the pipeline loader registers the resolution hooks
// itself when they are missing (same flag).
import { register as registerTypeScript } from 'tsx/esm/api'
import { registerResolutionHooks } from './module-hooks.mjs'

const TYPESCRIPT = Symbol.for('flowhouse.typescriptHooks')
if (!globalThis[TYPESCRIPT]) {
  registerResolutionHooks({ beforeTypeScript: true })
  globalThis[TYPESCRIPT] = true
  registerTypeScript()
} else {
  registerResolutionHooks()
}
