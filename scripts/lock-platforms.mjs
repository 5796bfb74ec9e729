// Keeps package-lock.json installable with `npm ci` on every platform chdb supports.
// When the registry in use serves only the current platform's @chdb/lib-* package, `npm install`
// leaves the other platforms' optional entries out of the lock, and `npm ci` then refuses the
// lock. This adds the missing entries (optional, with their os/cpu), which npm skips on other
// platforms. Run after `npm install <package>`: node scripts/lock-platforms.mjs
import { readFileSync, writeFileSync } from 'node:fs'

const file = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(readFileSync(file, 'utf8'))
const chdb = lock.packages['node_modules/chdb']
const platforms = {
  '@chdb/lib-darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  '@chdb/lib-darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  '@chdb/lib-linux-arm64-gnu': { os: ['linux'], cpu: ['arm64'], libc: ['glibc'] },
  '@chdb/lib-linux-x64-gnu': { os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
}
let added = 0
for (const [name, version] of Object.entries(chdb?.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`
  if (lock.packages[key] || !platforms[name]) continue
  lock.packages[key] = { version, ...platforms[name], license: 'Apache-2.0', optional: true }
  added++
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n')
console.log(`package-lock.json: ${added} platform entries added`)
