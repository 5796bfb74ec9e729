// Worker-thread entry of replay encoding: registers the TypeScript loader in this thread, then
// runs encode-worker.ts (which starts the job given in workerData).
import '../util/register-hooks.mjs'

await import('./encode-worker.ts')
