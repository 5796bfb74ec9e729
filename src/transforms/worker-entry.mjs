// Worker-thread entry: registers the TypeScript loader in this thread, then hands over to worker.ts.
import { register } from 'tsx/esm/api'

register()
const { default: run } = await import('./worker.ts')
export default run
