/**
 * The work of the benchmark's CPU-heavy transform (bench/run.ts part 3), shared by the pipeline
 * module the daemon runs and by the plain worker-thread reference (heavy-worker.ts), so both
 * measure the same function.
 */
import { createHash } from 'node:crypto'

/** 200 rounds of SHA-256 over `text`, each over the previous round's hex digest; returns the last (64 hex characters). */
export function heavyDigest(text: string): string {
  let digest = text
  for (let i = 0; i < 200; i++) digest = createHash('sha256').update(digest).digest('hex')
  return digest
}
