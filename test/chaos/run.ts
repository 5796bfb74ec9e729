/**
 * `npm run chaos [-- --short]`: runs the chaos scenarios (test/chaos/scenarios.ts) against the
 * local services and prints one line per scenario:
 *   scenario=<name> runs=<n> loss=<n> dup=<n> dlq=<n> stalled=<yes/no> crash=<yes/no> [notes]
 * Exits 1 when a scenario breaks its promise (loss, dup, stall or crash; the negative control
 * must show loss or dup); a scenario that throws is reported and the next one runs.
 * `--only=a,b` runs only the named scenarios. scripts/chaos.sh starts the services and holds the integration lock.
 */
import { startService, formatResult } from './lib.ts'
import { fullSuite, passes, runScenarios, shortSuite } from './scenarios.ts'

const short = process.argv.includes('--short')
/** `--only=name,name`: just those scenarios (names as printed, e.g. kill9-50, poison-null-value). */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',')
const scenarios = (short ? shortSuite() : fullSuite()).filter((s) => !only || only.includes(s.name))
const started = Date.now()
let failed = 0
try {
  for await (const result of runScenarios(scenarios)) {
    console.log(formatResult(result))
    if (!passes(result)) failed++
  }
} finally {
  // Whatever happened, leave the broker and the server running.
  await startService('all')
}
console.log(`chaos ${short ? 'short' : 'full'} suite: ${failed === 0 ? 'all scenarios held' : `${failed} scenario(s) failed`} in ${Math.round((Date.now() - started) / 1000)} s`)
process.exit(failed === 0 ? 0 : 1)
