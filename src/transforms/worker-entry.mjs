// Worker-thread entry: registers the TypeScript loader and the resolution of 'flowhouse' in this
// thread (hooks are per thread), then hands over to worker.ts.
import '../util/register-hooks.mjs'

const { default: run } = await import('./worker.ts')
export default run
