/**
 * `npm run chaos [-- --short]`: runs the chaos scenarios (test/chaos/scenarios.ts) against the
 * local services and prints one line per scenario:
 *   scenario=<name> runs=<n> loss=<n> dup=<n> dlq=<n> stalled=<yes/no> crash=<yes/no> [notes]
 * Exits 1 when a scenario breaks its promise (loss, dup, stall or crash; the negative control
 * must show loss or dup). scripts/chaos.sh starts the services and holds the integration lock.
 */
import { startService, formatResult } from './lib.ts'
import { fullSuite, passes, shortSuite } from './scenarios.ts'

const short = process.argv.includes('--short')
const started = Date.now()
let failed = 0
try {
  for await (const result of short ? shortSuite() : fullSuite()) {
    console.log(formatResult(result))
    if (!passes(result)) failed++
  }
} finally {
  // Whatever happened, leave the broker and the server running.
  await startService('all')
}
console.log(`chaos ${short ? 'short' : 'full'} suite: ${failed === 0 ? 'all scenarios held' : `${failed} scenario(s) failed`} in ${Math.round((Date.now() - started) / 1000)} s`)
process.exit(failed === 0 ? 0 : 1)
