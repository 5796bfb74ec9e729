/**
 * `flowhouse keys create --scope <ingest|read|admin>`: prints a new random API key and the
 * entry that configures it (`<scope>:<sha256 hex>`, for FLOWHOUSE_API_KEYS or one line of
 * FLOWHOUSE_API_KEYS_FILE). Only the entry goes into the daemon's configuration; the key is
 * shown once and given to the client.
 */
import { Command, InvalidArgumentError } from 'commander'
import { SCOPES, type Scope } from '../config.ts'
import { createApiKey } from '../http/auth.ts'

function scope(value: string): Scope {
  if (!(SCOPES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${SCOPES.join(', ')}`)
  return value as Scope
}

/** Adds the `keys` command group to `program`. */
export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('API keys of the daemon (scopes: ingest, read, admin)')
  keys
    .command('create')
    .description('print a new random API key and the entry to add to FLOWHOUSE_API_KEYS')
    .requiredOption('--scope <scope>', `one of ${SCOPES.join(', ')} (admin includes read and ingest)`, scope)
    .option('--format <fmt>', 'text | json', 'text')
    .action((o: { scope: Scope; format: string }) => {
      const { key, entry } = createApiKey(o.scope)
      if (o.format === 'json') {
        console.log(JSON.stringify({ scope: o.scope, key, entry }))
        return
      }
      console.log(`key:   ${key}`)
      console.log(`entry: ${entry}`)
      console.error(
        'Add the entry to FLOWHOUSE_API_KEYS (comma-separated) or as a line of the file named by FLOWHOUSE_API_KEYS_FILE, and restart the daemon.\n' +
          'Clients send the key as `Authorization: Bearer <key>` (the CLI reads FLOWHOUSE_API_KEY or --api-key). It is not stored anywhere: keep it now.',
      )
    })
}
