/**
 * `flowhouse start`: runs the daemon until SIGTERM / SIGINT (or, under `npx`/`npm start`, until
 * the npm process that launched it is gone: launcher.ts), then drains and exits.
 */
import type { DaemonConfig } from '../config.ts'
import { Daemon } from '../daemon/daemon.ts'
import { log } from '../util/log.ts'
import { followLauncher } from './launcher.ts'

export async function startCommand(config: DaemonConfig): Promise<void> {
  const daemon = await Daemon.start(config)
  let signals = 0
  const shutdown = (signal: string) => {
    signals++
    if (signals > 1) {
      log.warn({ signal }, 'second signal: exiting without draining')
      process.exit(1)
    }
    log.info({ signal }, 'shutting down')
    daemon.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  followLauncher(() => shutdown('launcher exited'))
}
