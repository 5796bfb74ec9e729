/**
 * Hot reload of the pipelines folder. Every `intervalMs` the folder is listed and each module
 * file's modification time compared with the version the daemon runs:
 * - a new file is loaded, provisioned and started;
 * - a changed file is loaded and, if it loads, checks and provisions, replaces the running
 *   version (consumers restart on the same groups, from the committed offsets); otherwise
 *   the running version stays and the refusal is reported;
 * - a removed file's consumers stop; its topics, tables and data stay.
 * Polling (not file events) so that it also works on mounted volumes in containers.
 */
import { stat } from 'node:fs/promises'
import { stageLog } from '../util/log.ts'
import { listModules, loadModule, type LoadedModule } from './loader.ts'

const logger = stageLog('reload')

/** What the reloader needs of the daemon. */
export interface ReloadTarget {
  readonly loadedModules: readonly LoadedModule[]
  addModule(m: LoadedModule): Promise<void>
  replaceModule(m: LoadedModule): Promise<void>
  removeModule(file: string): Promise<void>
}

export class ModuleReloader {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> = Promise.resolve()
  private stopped = false
  /** Versions seen and refused, so a broken file is not reloaded every interval. */
  private readonly refused = new Map<string, string>()

  constructor(
    private readonly target: ReloadTarget,
    private readonly dir: string,
    private readonly intervalMs: number,
  ) {}

  start(): this {
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.scan()).catch((error) => logger.error({ err: error }, 'reload scan failed'))
    }, this.intervalMs)
    this.timer.unref()
    return this
  }

  /** One pass over the folder; exposed for tests. Never throws for a bad module. */
  async scan(): Promise<void> {
    if (this.stopped) return
    const files = await listModules(this.dir)
    const known = new Map(this.target.loadedModules.map((m) => [m.file, m]))
    for (const file of files) {
      let version: string
      try {
        version = String(Math.floor((await stat(file)).mtimeMs))
      } catch {
        continue
      }
      const current = known.get(file)
      if (current?.version === version || this.refused.get(file) === version) continue
      logger.info({ module: file, from: current?.version ?? null, to: version }, current ? 'module changed' : 'module added')
      const next = await loadModule(file)
      if (this.stopped) return
      if (current) await this.target.replaceModule(next)
      else await this.target.addModule(next)
      const after = this.target.loadedModules.find((m) => m.file === file)
      if (after && after.version !== next.version) this.refused.set(file, next.version)
      else this.refused.delete(file)
    }
    for (const file of known.keys()) {
      if (!files.includes(file)) {
        logger.info({ module: file }, 'module removed')
        await this.target.removeModule(file)
        this.refused.delete(file)
      }
    }
  }

  /** Stops polling and waits for a pass in progress. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    await this.running
  }
}
