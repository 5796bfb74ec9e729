/**
 * The daemon: loads the pipelines folder, provisions topics, tables and views, runs one
 * consumer group per stream with a transform pool sized to its parallelism, and serves HTTP.
 */
import type { Admin, Kafka } from 'kafkajs'
import { deliveryGuarantee } from '../clickhouse/capabilities.ts'
import { createClickHouse, type ClickHouse } from '../clickhouse/client.ts'
import { pipelineConstraints, schemaFields } from '../constraints/check.ts'
import { ViolationHistory } from '../constraints/history.ts'
import { ConstraintRegistry } from '../constraints/registry.ts'
import { SharedRates } from '../constraints/rate.ts'
import { ConstraintStore } from '../constraints/store.ts'
import { registerConstraintRoutes } from '../http/constraints.ts'
import { registerDlqRoutes } from '../http/dlq.ts'
import { provisionTable } from '../clickhouse/provision.ts'
import type { DaemonConfig } from '../config.ts'
import { messageOf } from '../errors.ts'
import { EventLoopMonitor } from '../health/event-loop.ts'
import { Periodic } from '../health/periodic.ts'
import { pausedPartitionsCheck, publishReadiness } from '../health/readiness.ts'
import { checkListenAddress } from '../http/auth.ts'
import { StallDetector } from '../health/stall.ts'
import { registerViewRoutes } from '../http/mv.ts'
import { buildServer, type ReadyCheck } from '../http/server.ts'
import { ensureTopics, type TopicSpec } from '../kafka/admin.ts'
import { connectKafkaAdmin, createKafka } from '../kafka/client.ts'
import { StreamConsumer } from '../kafka/consumer.ts'
import { DlqWriter } from '../kafka/dlq.ts'
import { RecordProducer } from '../kafka/producer.ts'
import { LagCollector } from '../metrics/lag.ts'
import { metrics } from '../metrics/metrics.ts'
import { initPipelineSeries, tablesOf, topicsOf } from '../metrics/series.ts'
import type { IngestPipelineLike, StreamLike } from '../model/types.ts'
import { loadPipelines, type LoadedModule } from '../pipelines/loader.ts'
import { ModuleReloader } from '../pipelines/reloader.ts'
import { TransformPool } from '../transforms/pool.ts'
import { stageLog } from '../util/log.ts'
import { within } from '../util/within.ts'
import { ViewManager } from '../views/manager.ts'
import type { FastifyInstance } from 'fastify'

const logger = stageLog('daemon')

interface RunningStream {
  /** Module file the stream comes from. */
  file: string
  stream: StreamLike
  pool: TransformPool
  consumer: StreamConsumer
}

export class Daemon {
  private readonly kafka: Kafka
  private readonly admin: Admin
  private readonly producer: RecordProducer
  private readonly dlqWriter: DlqWriter
  /** Partitions with lag and no commit for FLOWHOUSE_STALL_SECONDS (fed by the lag collector). */
  private readonly stalls: StallDetector
  private ch!: ClickHouse
  private http!: FastifyInstance
  private registry: ConstraintRegistry | undefined
  private sharedRates: SharedRates | undefined
  /** Materialized-view lifecycle (src/views): module views, /api/mv, backfills, schedules. */
  private views: ViewManager | undefined
  private modules: LoadedModule[] = []
  private readonly pipelines = new Map<string, IngestPipelineLike>()
  /** Module file declaring each running pipeline. */
  private readonly pipelineFiles = new Map<string, string>()
  private reloader: ModuleReloader | undefined
  private readonly running: RunningStream[] = []
  private stopping: Promise<void> | undefined
  private readonly eventLoop = new EventLoopMonitor()
  /** Consumer lag gauges and the periodic readiness refresh (flowhouse_ready). */
  private ops: Array<{ stop(): Promise<void> }> = []
  /** Address the HTTP server listens on, e.g. `http://127.0.0.1:4000`. */
  url = ''

  /** The daemon's ClickHouse connection (embedded or server). */
  get clickhouse(): ClickHouse {
    return this.ch
  }

  private constructor(readonly config: DaemonConfig) {
    this.kafka = createKafka(config.brokers, config.clientId, config.kafkaSecurity)
    this.admin = this.kafka.admin()
    this.producer = new RecordProducer(this.kafka)
    this.dlqWriter = new DlqWriter(this.admin, this.producer, { rawKeepBytes: config.dlq.rawKeepBytes })
    this.stalls = new StallDetector(config.ops.stallSeconds)
  }

  /**
   * Starts a daemon: connects, loads and provisions every module, starts consumers and HTTP.
   * A module that fails to load or provision is reported (log, /ready, metric) and skipped.
   * @throws when Kafka or ClickHouse cannot be reached, or the HTTP port cannot be bound.
   */
  static async start(config: DaemonConfig): Promise<Daemon> {
    const daemon = new Daemon(config)
    try {
      await daemon.boot()
    } catch (error) {
      await daemon.stop().catch(() => undefined)
      throw error
    }
    return daemon
  }

  private async boot(): Promise<void> {
    const { config } = this
    checkListenAddress(config.host, config.access)
    this.ch = await createClickHouse({ dataDir: config.dataDir })
    logger.info({ mode: this.ch.mode, version: this.ch.serverVersion, ...deliveryGuarantee(this.ch.capabilities) }, 'ClickHouse detected; delivery guarantee in force')
    await connectKafkaAdmin(this.admin, config.brokers, config.clientId, config.kafkaSecurity)
    await this.producer.connect()
    if (config.redisUrl) {
      this.sharedRates = new SharedRates(config.redisUrl)
      await this.sharedRates.ready()
      logger.info({ redis: new URL(config.redisUrl).host }, 'rate limits are shared through Redis')
    }
    this.registry = new ConstraintRegistry(new ConstraintStore(this.ch), new ViolationHistory(this.ch, config.violations), undefined, this.sharedRates)
    await this.registry.start()
    this.views = new ViewManager(this.ch, config.views)
    await this.views.start()
    this.modules = await loadPipelines(config.pipelinesDir)
    for (const m of this.modules) {
      if (m.error) {
        logger.error({ module: m.file, error: m.error }, 'pipeline module failed to load; it is not running')
        continue
      }
      try {
        await this.provision(m)
        await this.register(m)
      } catch (error) {
        m.error = `provisioning failed: ${messageOf(error)}`
        logger.error({ module: m.file, error: m.error }, 'pipeline module could not be provisioned; it is not running')
      }
    }
    this.views.resume()
    for (const m of this.modules) if (!m.error) await this.startStreams(m)
    this.updateModuleMetrics()
    this.http = buildServer({
      ch: this.ch,
      producer: this.producer,
      recordsPerMessage: config.recordsPerMessage,
      ingestMaxBytes: config.ingestMaxBytes,
      access: config.access,
      bounds: config.decode,
      pipeline: (name) => this.pipelines.get(name),
      ready: () => this.ready(),
      describe: () => this.describe(),
      constraints: this.registry,
      routes: [(app) => registerConstraintRoutes(app, this.registry!), (app) => registerViewRoutes(app, this.views!), (app) => registerDlqRoutes(app, { kafka: this.kafka, producer: this.producer, groupPrefix: config.groupPrefix })],
      health: { monitor: this.eventLoop.start(), maxEventLoopDelayMs: config.ops.healthMaxEventLoopDelayMs },
    })
    this.url = await this.http.listen({ port: config.port, host: config.host })
    this.ops = [
      new LagCollector(this.admin, () => this.running.map((r) => ({ pipeline: this.pipelineOf(r.stream)?.name ?? r.stream.name, groupId: r.consumer.status.groupId, topic: r.consumer.status.topic })), config.ops.metricsIntervalMs, (lags) => this.stalls.observe(lags)).start(),
      new Periodic('readiness', config.ops.metricsIntervalMs, () => this.ready().then(() => undefined)).start(),
    ]
    if (config.reloadIntervalMs > 0) this.reloader = new ModuleReloader(this, config.pipelinesDir, config.reloadIntervalMs).start()
    logger.info({ url: this.url, pipelines: [...this.pipelines.keys()], mode: this.ch.mode }, 'flowhouse is running')
  }

  private updateModuleMetrics(): void {
    metrics.pipelinesLoaded.set(this.modules.filter((m) => !m.error).length)
    metrics.moduleLoadErrors.set(this.modules.filter((m) => m.error || m.reloadError).length)
  }

  /** The modules this daemon knows, running or not (the reloader compares them with the folder). */
  get loadedModules(): readonly LoadedModule[] {
    return this.modules
  }

  /**
   * Hot reload: provisions and starts a module that appeared in the folder (or one that failed
   * before and changed). Never throws: a failure is logged, kept on the module (`error`,
   * shown by /ready and /api/pipelines) and counted in flowhouse_module_load_errors.
   */
  async addModule(m: LoadedModule): Promise<void> {
    this.modules = [...this.modules.filter((x) => x.file !== m.file), m]
    if (!m.error) {
      try {
        await this.provision(m)
        await this.register(m)
        await this.startStreams(m)
        logger.info({ module: m.file, pipelines: m.defs!.pipelines.map((p) => p.name) }, 'module added')
      } catch (error) {
        m.error = `provisioning failed: ${messageOf(error)}`
      }
    }
    if (m.error) logger.error({ module: m.file, error: m.error }, 'pipeline module failed to load; it is not running')
    this.updateModuleMetrics()
  }

  /**
   * Hot reload: a running module changed. The new version is provisioned first; a change that
   * would lose data (a removed or retyped column) is refused there, and so is a module that no
   * longer loads or checks: the old version keeps running and the reason is kept on the module
   * (`reloadError`). Otherwise the old consumers drain and commit, and the new code starts on
   * the same consumer groups, from the committed offsets. Never throws.
   */
  async replaceModule(next: LoadedModule): Promise<void> {
    const current = this.modules.find((m) => m.file === next.file)
    if (!current || current.error) return this.addModule(next)
    if (!next.error) {
      try {
        await this.provision(next)
      } catch (error) {
        next.error = messageOf(error)
      }
    }
    if (next.error) {
      current.reloadError = `version ${next.version} refused, version ${current.version} keeps running: ${next.error}`
      logger.error({ module: next.file, error: current.reloadError }, 'changed module refused')
      this.updateModuleMetrics()
      return
    }
    await this.stopModule(current)
    this.modules = this.modules.map((m) => (m === current ? next : m))
    await this.register(next)
    await this.startStreams(next)
    logger.info({ module: next.file, version: next.version }, 'module reloaded; consumers restarted with the new code')
    this.updateModuleMetrics()
  }

  /** Hot reload: a module left the folder. Its consumers drain and stop; its topics, tables and data stay. */
  async removeModule(file: string): Promise<void> {
    const current = this.modules.find((m) => m.file === file)
    if (!current) return
    await this.stopModule(current)
    this.views?.moduleRemoved(file)
    this.modules = this.modules.filter((m) => m !== current)
    logger.info({ module: file }, 'module removed; its consumers stopped and its data stays')
    this.updateModuleMetrics()
  }

  private async stopModule(m: LoadedModule): Promise<void> {
    const streams = this.running.filter((r) => r.file === m.file)
    await Promise.allSettled(streams.map((r) => r.consumer.stop()))
    await Promise.allSettled(streams.map((r) => r.pool.close()))
    for (const r of streams) this.running.splice(this.running.indexOf(r), 1)
    for (const [name, file] of this.pipelineFiles) {
      if (file !== m.file) continue
      this.registry?.detach(name)
      this.pipelines.delete(name)
      this.pipelineFiles.delete(name)
    }
  }

  private async provision(m: LoadedModule): Promise<void> {
    const defs = m.defs!
    for (const p of defs.pipelines) {
      const owner = this.pipelineFiles.get(p.name)
      if (owner && owner !== m.file) throw new Error(`pipeline "${p.name}" is already declared by ${owner}`)
    }
    const topics: TopicSpec[] = []
    for (const s of defs.streams) {
      topics.push({ topic: s.name, partitions: s.config.parallelism, retentionMs: s.config.retentionPeriod * 1000 })
      const dlq = this.dlqTopicOf(s)
      if (dlq) topics.push({ topic: dlq, partitions: 1, retentionMs: s.config.retentionPeriod * 1000 })
    }
    await ensureTopics(this.admin, topics)
    for (const t of defs.tables) await provisionTable(this.ch, t)
    for (const v of defs.views) await this.views!.provisionModuleView(v, m.file)
    for (const p of defs.pipelines) pipelineConstraints(p)
  }

  /** Makes a provisioned module's pipelines and constraints live. */
  private async register(m: LoadedModule): Promise<void> {
    for (const p of m.defs!.pipelines) {
      await this.registry!.attach(p.name, pipelineConstraints(p), schemaFields(p))
      this.pipelines.set(p.name, p)
      this.pipelineFiles.set(p.name, m.file)
    }
  }

  private pipelineOf(s: StreamLike): IngestPipelineLike | undefined {
    return s.pipeline ? this.pipelines.get(s.pipeline) : undefined
  }

  private dlqTopicOf(s: StreamLike): string | undefined {
    const owner = s.pipeline
    if (!owner) return `${s.name}.dlq`
    // The pipeline may not be registered yet while provisioning; look it up in its module.
    const p = this.pipelines.get(owner) ?? this.modules.flatMap((m) => m.defs?.pipelines ?? []).find((x) => x.name === owner)
    return p?.deadLetterQueue === false ? undefined : `${owner}.dlq`
  }

  private async startStreams(m: LoadedModule): Promise<void> {
    for (const stream of m.defs!.streams) {
      initPipelineSeries(this.pipelineOf(stream)?.name ?? stream.name, tablesOf(stream), topicsOf(stream))
      const pool = new TransformPool(stream.config.parallelism, { taskTimeoutMs: this.config.decode.taskTimeoutMs })
      const consumer = new StreamConsumer({
        kafka: this.kafka,
        admin: this.admin,
        ch: this.ch,
        producer: this.producer,
        pool,
        stream,
        file: m.file,
        version: m.version,
        groupId: `${this.config.groupPrefix}.${stream.name}`,
        pipeline: this.pipelineOf(stream)?.name ?? stream.name,
        dlqTopic: this.dlqTopicOf(stream),
        batch: this.config.batch,
        group: this.config.group,
        recordsPerMessage: this.config.recordsPerMessage,
        constraints: this.registry,
        dlqWriter: this.dlqWriter,
        decode: this.config.decode,
        rawKeepBytes: this.config.dlq.rawKeepBytes,
      })
      await consumer.start()
      this.running.push({ file: m.file, stream, pool, consumer })
    }
  }

  /**
   * Readiness checks: Kafka reachable, ClickHouse ping, every consumer group joined, every module
   * loaded and provisioned, no partition waiting on retried inserts longer than
   * FLOWHOUSE_READY_PAUSE_THRESHOLD_MS and none stalled (lag without a commit for FLOWHOUSE_STALL_SECONDS).
   * Publishes each check on the `flowhouse_ready{check}` gauge. Never throws.
   */
  async ready(): Promise<Record<string, ReadyCheck>> {
    const kafka = await this.admin
      .describeCluster()
      .then((c) => ({ ok: true, detail: { brokers: c.brokers.length } }))
      .catch((error: unknown) => ({ ok: false, detail: messageOf(error) }))
    const ping = await this.ch.ping()
    const consumers = this.running.map((r) => r.consumer.status)
    // A module that failed to load or provision is not running: the daemon is not ready. A
    // refused reload (the previous version keeps running) is reported without failing.
    const failed = this.modules.filter((m) => m.error || m.reloadError).map((m) => ({ file: m.file, running: !m.error, error: m.error ?? m.reloadError }))
    const checks = {
      kafka,
      clickhouse: ping.ok ? { ok: true } : { ok: false, detail: messageOf(ping.error) },
      consumers: { ok: consumers.every((c) => c.joined), detail: consumers },
      modules: { ok: failed.every((f) => f.running), detail: { loaded: this.modules.length, failed } },
      partitions: pausedPartitionsCheck(this.config.ops.readyPauseThresholdMs, undefined, undefined, this.stalls),
    }
    publishReadiness(checks)
    return checks
  }

  describe(): unknown {
    return {
      pipelines: [...this.pipelines.values()].map((p) => ({
        name: p.name,
        topic: p.stream.name,
        table: p.table?.name ?? null,
        dlqTopic: p.deadLetterQueue ? p.dlqTopic : null,
        ingestApi: p.ingestApi,
        parallelism: p.stream.config.parallelism,
      })),
      modules: this.modules.map((m) => ({ file: m.file, version: m.version, running: !m.error, error: m.error ?? null, reloadError: m.reloadError ?? null })),
    }
  }

  /**
   * Stops the consumers (flush, commit, leave the group) within config.drainTimeoutMs. When a
   * task never settles the drain cannot finish: the worker threads are stopped, which rejects
   * the task, so the consumer's fetch loop ends and it can leave; the messages it held were not
   * committed and are consumed again. Never throws.
   */
  private async drainConsumers(): Promise<void> {
    const drained = Promise.allSettled(this.running.map((r) => r.consumer.stop()))
    if (await within(drained, this.config.drainTimeoutMs)) return
    logger.error({ timeoutMs: this.config.drainTimeoutMs }, 'drain did not finish in time (a task never settled); stopping the worker threads so the consumers can leave their groups; uncommitted messages will be consumed again')
    await within(Promise.allSettled(this.running.map((r) => r.pool.close())), 10_000)
    if (!(await within(drained, 10_000))) logger.error('consumers did not stop; exiting anyway: the broker drops them after the session timeout')
  }

  /** Drains consumers (flush, commit, leave the group), then closes everything. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      logger.info('stopping: draining consumers')
      const phases: Record<string, number> = {}
      const phase = async (name: string, fn: () => Promise<unknown>) => {
        const t0 = Date.now()
        await fn().catch((error: unknown) => logger.warn({ phase: name, error: messageOf(error) }, 'shutdown step failed'))
        phases[name] = Date.now() - t0
      }
      await phase('reloader', async () => this.reloader?.stop())
      await phase('http', async () => this.http?.close())
      await phase('ops', () => Promise.allSettled(this.ops.map((o) => o.stop())))
      this.eventLoop.stop()
      await phase('consumers', () => this.drainConsumers())
      await phase('pools', () => within(Promise.allSettled(this.running.map((r) => r.pool.close())), 10_000))
      await phase('constraints', async () => this.registry?.stop())
      await phase('rates', async () => this.sharedRates?.close())
      await phase('producer', () => this.producer.close())
      await phase('admin', () => this.admin.disconnect())
      await phase('views', async () => this.views?.stop())
      await phase('clickhouse', async () => this.ch?.close())
      logger.info({ phasesMs: phases }, 'stopped')
    })()
    return this.stopping
  }
}
