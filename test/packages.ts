/**
 * Tests that need system packages (a ClickHouse cluster, docker-compose ...) call this with the
 * reason they cannot run, or undefined when they can. A skip is announced loudly on stderr, and
 * under CI=true it is a failure instead: scripts/setup.sh, which `npm test` runs first, installs
 * every package the suite needs, so a missing one there means the setup is broken.
 * @returns the reason to pass to node:test's `skip`, or undefined to run.
 * @throws Error under CI=true when `reason` is set.
 */
export function skipUnlessInstalled(reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined
  if (process.env.CI === 'true') throw new Error(`${reason}. Under CI=true this fails: scripts/setup.sh (run by npm test) installs these packages.`)
  process.stderr.write(`\n********** SKIPPED: ${reason} **********\n\n`)
  return reason
}
