// Module resolution hooks of the flowhouse process (node:module register, one per thread):
//  - the specifier `flowhouse` (and `flowhouse/...` subpaths of the package's exports) resolves to
//    this running copy of flowhouse, wherever the importing module lives: a pipelines folder in the
//    user's own project, a container mount, or a folder with no package.json above it;
//  - a `.ts` module outside node_modules is an ES module whatever the nearest package.json says
//    (without "type": "module" above it, Node would treat it as CommonJS and fail on the first
//    `import { type ... }` with "Unexpected identifier").
// Plain JavaScript: it runs on Node's hooks thread before any TypeScript loader exists.

const ENTRY = new URL('../index.ts', import.meta.url).href
const PACKAGE_JSON = new URL('../../package.json', import.meta.url).href
const TYPESCRIPT = /\.ts(?:\?.*)?$/

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'flowhouse') return { url: ENTRY, format: 'module', shortCircuit: true }
  if (specifier === 'flowhouse/package.json') return { url: PACKAGE_JSON, format: 'json', shortCircuit: true }
  const resolved = await nextResolve(specifier, context)
  if (TYPESCRIPT.test(resolved.url) && resolved.url.startsWith('file:') && !resolved.url.includes('/node_modules/') && resolved.format !== 'module') {
    return { ...resolved, format: 'module' }
  }
  return resolved
}
