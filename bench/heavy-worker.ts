/**
 * Worker thread of the parallelism reference (bench/run.ts part 3): runs heavyDigest over
 * `workerData.records` synthetic flight keys and posts the number of digests made.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { heavyDigest } from './heavy.ts'

const { records, offset } = workerData as { records: number; offset: number }
let made = 0
for (let i = offset; i < offset + records; i++) if (heavyDigest(`${i}LASPHL`).length === 64) made++
parentPort!.postMessage(made)
