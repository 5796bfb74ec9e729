/**
 * The daemon's composition root: creates the connections (ClickHouse, Kafka admin and producer,
 * Redis for shared rate limits), the constraint registry and the view manager, hands the
 * pipelines folder to the module lifecycle (src/pipelines/lifecycle.ts: loading, provisioning,
 * consumers, hot reload), serves HTTP, runs the periodic lag and readiness refresh
 * (src/health/checks.ts), and shuts everything down in order.
 */
import type { Admin, Kafka } from 'kafkajs'
import { deliveryGuarantee } from '../clickhouse/capabilities.ts'
import { connectClickHouse, type ClickHouse } from '../clickhouse/client.ts'
import { ViolationHistory } from '../constraints/history.ts'
import { ConstraintRegistry } from '../constraints/registry.ts'
import { SharedRates } from '../constraints/rate.ts'
import { ConstraintStore } from '../constraints/store.ts'
import { registerConstraintRoutes } from '../http/constraints.ts'
import { registerDlqRoutes } from '../http/dlq.ts'
import type { DaemonConfig } from '../config.ts'
import { daemonReadiness } from '../health/checks.ts'
import { EventLoopMonitor } from '../health/event-loop.ts'
import { Periodic } from '../util/periodic.ts'
import { checkListenAddress } from '../http/auth.ts'
import { StallDetector } from '../health/stall.ts'
import { registerViewRoutes } from '../http/mv.ts'
import { buildServer, type ReadyCheck } from '../http/server.ts'
import { connectKafkaAdmin, createKafka } from '../kafka/client.ts'
import { DlqWriter } from '../kafka/dlq.ts'
import { RecordProducer } from '../kafka/producer.ts'
import { LagCollector } from '../metrics/lag.ts'
import { ModuleLifecycle } from '../pipelines/lifecycle.ts'
import { ModuleReloader } from '../pipelines/reloader.ts'
import { stageLog } from '../util/log.ts'
import { within } from '../util/within.ts'
import { ViewManager } from '../views/manager.ts'
import type { FastifyInstance } from 'fastify'

const logger = stageLog('daemon')

/** A running daemon: `Daemon.start(config)`, then `stop()`; `ready()` and `describe()` back /ready and /api/pipelines. */
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
  /** Pipeline modules, their pipelines and consumers (src/pipelines/lifecycle.ts). */
  private lifecycle: ModuleLifecycle | undefined
  private reloader: ModuleReloader | undefined
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
    this.ch = await connectClickHouse(config.clickhouse)
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
    const lifecycle = (this.lifecycle = new ModuleLifecycle({ config, kafka: this.kafka, admin: this.admin, ch: this.ch, producer: this.producer, dlqWriter: this.dlqWriter, registry: this.registry, views: this.views }))
    await lifecycle.loadAll(config.pipelinesDir)
    this.views.resume()
    await lifecycle.startAll()
    this.http = buildServer({
      ch: this.ch,
      producer: this.producer,
      recordsPerMessage: config.recordsPerMessage,
      ingestMaxBytes: config.ingestMaxBytes,
      access: config.access,
      bounds: config.decode,
      pipeline: (name) => lifecycle.pipeline(name),
      ready: () => this.ready(),
      describe: () => this.describe(),
      constraints: this.registry,
      routes: [(app) => registerConstraintRoutes(app, this.registry!), (app) => registerViewRoutes(app, this.views!), (app) => registerDlqRoutes(app, { kafka: this.kafka, producer: this.producer, groupPrefix: config.groupPrefix, pausing: (pipeline, reset) => lifecycle.withPipelineStopped(pipeline, reset) })],
      health: { monitor: this.eventLoop.start(), maxEventLoopDelayMs: config.ops.healthMaxEventLoopDelayMs },
    })
    this.url = await this.http.listen({ port: config.port, host: config.host })
    this.ops = [
      new LagCollector(this.admin, () => lifecycle.streams.map((r) => ({ pipeline: lifecycle.pipelineOf(r.stream)?.name ?? r.stream.name, groupId: r.consumer.status.groupId, topic: r.consumer.status.topic })), config.ops.metricsIntervalMs, (lags) => this.stalls.observe(lags)).start(),
      new Periodic('readiness', config.ops.metricsIntervalMs, () => this.ready().then(() => undefined)).start(),
    ]
    if (config.reloadIntervalMs > 0) this.reloader = new ModuleReloader(lifecycle, config.pipelinesDir, config.reloadIntervalMs).start()
    logger.info({ url: this.url, pipelines: lifecycle.pipelineNames, mode: this.ch.mode }, 'flowhouse is running')
  }

  /**
   * Readiness checks (src/health/checks.ts): `kafka`, `clickhouse`, `consumers`, `modules`,
   * `partitions`, each published on the `flowhouse_ready{check}` gauge. Never throws.
   */
  ready(): Promise<Record<string, ReadyCheck>> {
    const lifecycle = this.lifecycle
    return daemonReadiness({
      describeCluster: () => this.admin.describeCluster(),
      ping: () => this.ch.ping(),
      consumers: () => (lifecycle?.streams ?? []).map((r) => r.consumer.status),
      modules: () => lifecycle?.loadedModules ?? [],
      readyPauseThresholdMs: this.config.ops.readyPauseThresholdMs,
      stalls: this.stalls,
    })
  }

  /** GET /api/pipelines: running pipelines and every known module with its state. */
  describe(): unknown {
    return this.lifecycle?.describe() ?? { pipelines: [], modules: [] }
  }

  /** Drains consumers (flush, commit, leave the group), then closes everything. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      logger.info('stopping: draining consumers')
      const phases: Record<string, number> = {}
      const phase = async (name: string, fn: () => Promise<unknown>) => {
        const t0 = Date.now()
        await fn().catch((error: unknown) => logger.warn({ phase: name, err: error }, 'shutdown step failed'))
        phases[name] = Date.now() - t0
      }
      await phase('reloader', async () => this.reloader?.stop())
      await phase('http', async () => this.http?.close())
      await phase('ops', () => Promise.allSettled(this.ops.map((o) => o.stop())))
      this.eventLoop.stop()
      await phase('consumers', async () => this.lifecycle?.drain(this.config.drainTimeoutMs))
      await phase('pools', async () => this.lifecycle && within(this.lifecycle.closePools(), 10_000))
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
