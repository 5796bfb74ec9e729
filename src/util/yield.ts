/**
 * Lets other callbacks (health probes, other requests, heartbeats) run between two slices of a
 * long synchronous loop: resolves on the next turn of the event loop, after pending I/O
 * callbacks (`setImmediate`). Never rejects.
 */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
