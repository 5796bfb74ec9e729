/**
 * `npx flowhouse start` / `npm start` run the daemon as `npm exec → sh -c → node`. Killing the
 * npm process (the PID a user sees) ends npm and the shell, but the shell does not pass the
 * signal on, so the daemon would keep running, reparented. When npm launched it (npm sets
 * `npm_command`), the daemon follows its launcher: once its parent process is gone it shuts
 * down as on SIGTERM. A daemon started directly (`node bin/flowhouse.js start`, a container's
 * PID 1, a supervisor, nohup) never does.
 */

/** How often the parent process is checked, in milliseconds. @default 500 */
export const LAUNCHER_CHECK_INTERVAL_MS = 500

export interface FollowOptions {
  env?: NodeJS.ProcessEnv
  /** The current parent PID (process.ppid by default). */
  parentPid?: () => number
  intervalMs?: number
}

/**
 * Calls `onGone` once when the parent process that launched this one through npm is gone.
 * @returns a function that stops watching; a no-op when not launched by npm.
 */
export function followLauncher(onGone: () => void, o: FollowOptions = {}): () => void {
  const env = o.env ?? process.env
  if (!env.npm_command) return () => undefined
  const parentPid = o.parentPid ?? (() => process.ppid)
  const launcher = parentPid()
  const timer = setInterval(() => {
    if (parentPid() === launcher) return
    clearInterval(timer)
    onGone()
  }, o.intervalMs ?? LAUNCHER_CHECK_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
