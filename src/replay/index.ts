/** Public surface of the replay stage for the rest of the daemon: `replay` (used by `flowhouse dev`). `flowhouse replay` itself is src/replay/command.ts. */
export { replay } from './replay.ts'
