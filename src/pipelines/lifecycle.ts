/**
 * The life of the pipeline modules inside a running daemon: loading the folder at start,
 * provisioning each module (topics, tables, views, constraint checks), making its pipelines and
 * constraints live, starting one consumer group per stream with a transform pool sized to its
 * parallelism, and the hot-reload steps (add, replace, remove) the ModuleReloader drives.
 *
 * A module that fails to load or provision is reported (log line, `error` on the module, shown
 * by /ready and /api/pipelines, flowhouse_module_load_errors) and is not started; the others run.
 * Log lines keep the `daemon` stage they always had.
 */
import type { Admin, Kafka } from 'kafkajs'
import type { ClickHouse } from '../clickhouse/client.ts'
import { provisionTable } from '../clickhouse/provision.ts'
import { pipelineConstraints, schemaFields } from '../constraints/check.ts'
import type { ConstraintRegistry } from '../constraints/registry.ts'
import { messageOf } from '../errors.ts'
import { ensureTopics, type TopicSpec } from '../kafka/admin.ts'
import { StreamConsumer } from '../kafka/consumer.ts'
import type { DlqWriter } from '../kafka/dlq.ts'
import type { BatchOptions, DecodeOptions, GroupOptions } from '../kafka/options.ts'
import type { RecordProducer } from '../kafka/producer.ts'
import { metrics } from '../metrics/metrics.ts'
import { initPipelineSeries, tablesOf, topicsOf } from '../metrics/series.ts'
import type { IngestPipelineLike, MaterializedViewLike, StreamLike } from '../model/types.ts'
import { TransformPool } from '../transforms/pool.ts'
import { stageLog } from '../util/log.ts'
import { withRetry } from '../util/retry.ts'
import { within } from '../util/within.ts'
import { loadPipelines, type LoadedModule } from './loader.ts'
import type { ReloadTarget } from './reloader.ts'

const logger = stageLog('daemon')

/** One running stream: its consumer group member and transform pool. */
export interface RunningStream {
  /** Module file the stream comes from. */
  file: string
  stream: StreamLike
  pool: TransformPool
  consumer: StreamConsumer
}

/** The part of the daemon's configuration (config.ts DaemonConfig) the module lifecycle reads. */
export interface LifecycleConfig {
  /** Consumer groups are `<groupPrefix>.<stream>`. */
  groupPrefix: string
  batch: BatchOptions
  group: GroupOptions
  /** Records per message produced to destination topics. */
  recordsPerMessage: number
  decode: DecodeOptions
  dlq: { rawKeepBytes: number }
}

/** What the module lifecycle needs of the view manager (views/manager.ts ViewManager). */
export interface ModuleViews {
  /**
   * Provisions a view a module declares (a new one with its backfill in the background; a known
   * one is left as it is). Throws ConfigError, ClickHouseError or RefreshError.
   */
  provisionModuleView(view: MaterializedViewLike, file: string): Promise<unknown>
  /** Forgets the views a removed module file declared (the API may drop them again). */
  moduleRemoved(file: string): void
}

/** What the module lifecycle needs of the daemon: its connections and running services. */
export interface LifecycleDeps {
  config: LifecycleConfig
  kafka: Kafka
  admin: Admin
  ch: ClickHouse
  producer: RecordProducer
  dlqWriter: DlqWriter
  registry: ConstraintRegistry
  views: ModuleViews
}

/** The modules a daemon knows and what runs for them (pipelines, constraints, consumers). */
export class ModuleLifecycle implements ReloadTarget {
  private modules: LoadedModule[] = []
  private readonly pipelines = new Map<string, IngestPipelineLike>()
  /** Module file declaring each running pipeline. */
  private readonly pipelineFiles = new Map<string, string>()
  private readonly running: RunningStream[] = []

  constructor(private readonly deps: LifecycleDeps) {}

  /** The modules this daemon knows, running or not (the reloader compares them with the folder). */
  get loadedModules(): readonly LoadedModule[] {
    return this.modules
  }

  /** The running consumers with their pools, in start order. */
  get streams(): readonly RunningStream[] {
    return this.running
  }

  /** Names of the running pipelines. */
  get pipelineNames(): string[] {
    return [...this.pipelines.keys()]
  }

  /** A running pipeline by name, or undefined. */
  pipeline(name: string): IngestPipelineLike | undefined {
    return this.pipelines.get(name)
  }

  /** The pipeline that owns a stream, when the stream belongs to one that runs. */
  pipelineOf(s: StreamLike): IngestPipelineLike | undefined {
    return s.pipeline ? this.pipelines.get(s.pipeline) : undefined
  }

  /**
   * Start of the daemon, first half: loads every module of `dir`, provisions it and makes its
   * pipelines and constraints live. A module that fails is logged, keeps its `error` and is skipped.
   * @throws when the folder cannot be read.
   */
  async loadAll(dir: string): Promise<void> {
    this.modules = await loadPipelines(dir)
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
  }

  /**
   * Start of the daemon, second half: starts the consumers of every module that loaded, and
   * publishes flowhouse_pipelines_loaded and flowhouse_module_load_errors.
   * @throws when a consumer cannot start (Kafka unreachable).
   */
  async startAll(): Promise<void> {
    for (const m of this.modules) if (!m.error) await this.startStreams(m)
    this.updateModuleMetrics()
  }

  private updateModuleMetrics(): void {
    metrics.pipelinesLoaded.set(this.modules.filter((m) => !m.error).length)
    metrics.moduleLoadErrors.set(this.modules.filter((m) => m.error || m.reloadError).length)
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
    this.deps.views.moduleRemoved(file)
    this.modules = this.modules.filter((m) => m !== current)
    logger.info({ module: file }, 'module removed; its consumers stopped and its data stays')
    this.updateModuleMetrics()
  }

  private async stopModule(m: LoadedModule): Promise<void> {
    await this.stopStreams(this.running.filter((r) => r.file === m.file))
    for (const [name, file] of this.pipelineFiles) {
      if (file !== m.file) continue
      this.deps.registry.detach(name)
      this.pipelines.delete(name)
      this.pipelineFiles.delete(name)
    }
  }

  /** Drains and stops `streams` (flush, commit, leave the group), closes their pools and forgets them. Never throws. */
  private async stopStreams(streams: RunningStream[]): Promise<void> {
    await Promise.allSettled(streams.map((r) => r.consumer.stop()))
    await Promise.allSettled(streams.map((r) => r.pool.close()))
    for (const r of streams) this.running.splice(this.running.indexOf(r), 1)
  }

  /** Creates the module's topics (with DLQ topics), tables and views, and checks its constraints. */
  private async provision(m: LoadedModule): Promise<void> {
    const defs = m.defs!
    for (const p of defs.pipelines) {
      const owner = this.pipelineFiles.get(p.name)
      if (owner && owner !== m.file) throw new Error(`pipeline "${p.name}" is already declared by ${owner}`)
    }
    await ensureTopics(this.deps.admin, this.topicsOf(defs.streams))
    for (const t of defs.tables) await provisionTable(this.deps.ch, t)
    for (const v of defs.views) await this.deps.views.provisionModuleView(v, m.file)
    for (const p of defs.pipelines) pipelineConstraints(p)
  }

  /** Makes a provisioned module's pipelines and constraints live. */
  private async register(m: LoadedModule): Promise<void> {
    for (const p of m.defs!.pipelines) {
      await this.deps.registry.attach(p.name, pipelineConstraints(p), schemaFields(p))
      this.pipelines.set(p.name, p)
      this.pipelineFiles.set(p.name, m.file)
    }
  }

  /** The topics of `streams`: each stream's own and its DLQ topic when it has one. */
  private topicsOf(streams: readonly StreamLike[]): TopicSpec[] {
    const topics: TopicSpec[] = []
    for (const s of streams) {
      topics.push({ topic: s.name, partitions: s.config.parallelism, retentionMs: s.config.retentionPeriod * 1000 })
      const dlq = this.dlqTopicOf(s)
      if (dlq) topics.push({ topic: dlq, partitions: 1, retentionMs: s.config.retentionPeriod * 1000 })
    }
    return topics
  }

  private dlqTopicOf(s: StreamLike): string | undefined {
    const owner = s.pipeline
    if (!owner) return `${s.name}.dlq`
    // The pipeline may not be registered yet while provisioning; look it up in its module.
    const p = this.pipelines.get(owner) ?? this.modules.flatMap((m) => m.defs?.pipelines ?? []).find((x) => x.name === owner)
    return p?.deadLetterQueue === false ? undefined : `${owner}.dlq`
  }

  private async startStreams(m: LoadedModule): Promise<void> {
    for (const stream of m.defs!.streams) await this.startStream(m, stream)
  }

  private async startStream(m: LoadedModule, stream: StreamLike): Promise<void> {
    const { config } = this.deps
    initPipelineSeries(this.pipelineOf(stream)?.name ?? stream.name, tablesOf(stream), topicsOf(stream))
    const pool = new TransformPool(stream.config.parallelism, { taskTimeoutMs: config.decode.taskTimeoutMs })
    const consumer = new StreamConsumer({
      kafka: this.deps.kafka,
      admin: this.deps.admin,
      ch: this.deps.ch,
      producer: this.deps.producer,
      pool,
      stream,
      file: m.file,
      version: m.version,
      groupId: `${config.groupPrefix}.${stream.name}`,
      pipeline: this.pipelineOf(stream)?.name ?? stream.name,
      dlqTopic: this.dlqTopicOf(stream),
      batch: config.batch,
      group: config.group,
      recordsPerMessage: config.recordsPerMessage,
      constraints: this.deps.registry,
      dlqWriter: this.deps.dlqWriter,
      decode: config.decode,
      rawKeepBytes: config.dlq.rawKeepBytes,
    })
    // The workers load the module while the consumer joins its group.
    void pool.prepare({ file: m.file, version: m.version, stream: stream.name })
    await consumer.start()
    this.running.push({ file: m.file, stream, pool, consumer })
  }

  /**
   * Runs `reset` (e.g. kafka/tools.ts resetPipeline: deletes the pipeline's topics and consumer
   * group) with this daemon's consumer of the pipeline's ingest stream stopped: it drains first
   * (flush, commit, leave the group), so no member of this daemon holds the group while `reset`
   * runs. Afterwards, whatever `reset` did, the stream's topics are created again (ensureTopics)
   * and a new consumer starts, from the beginning when the group is gone. For a pipeline this
   * daemon does not run, `reset` alone.
   * @returns what `reset` returned.
   * @throws what `reset` threw (after the consumer is back), or a topic creation or consumer
   *   start error.
   */
  async withPipelineStopped<T>(name: string, reset: () => Promise<T>): Promise<T> {
    const pipeline = this.pipelines.get(name)
    const file = this.pipelineFiles.get(name)
    const m = file ? this.modules.find((x) => x.file === file) : undefined
    if (!pipeline || !m) return reset()
    const stopped = this.running.filter((r) => r.file === m.file && r.stream.name === pipeline.stream.name)
    await this.stopStreams(stopped)
    logger.info({ pipeline: name, streams: stopped.map((r) => r.stream.name) }, 'consumer stopped for a reset of the pipeline')
    try {
      return await reset()
    } finally {
      // A fresh admin client: the daemon's own one keeps the deleted names among the topics it
      // asks metadata for, and the broker answers UNKNOWN_TOPIC_OR_PARTITION for them until they
      // exist again. A still-settling deletion is retried for up to ~10 s.
      const admin = this.deps.kafka.admin()
      await admin.connect()
      try {
        await withRetry(() => ensureTopics(admin, this.topicsOf(stopped.map((r) => r.stream))), {
          retriable: (error) => (error as { retriable?: unknown }).retriable === true,
          delayMs: (retry) => (retry <= 20 ? 500 : undefined),
          onRetry: (error, retry) => logger.warn({ pipeline: name, retry, err: error }, 'creating the topics again after the reset; retrying'),
        })
      } finally {
        await admin.disconnect()
      }
      for (const r of stopped) await this.startStream(m, r.stream)
      logger.info({ pipeline: name }, 'consumer started again after the reset')
    }
  }

  /** GET /api/pipelines: the running pipelines and every known module with its state. */
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
   * Stops the consumers (flush, commit, leave the group) within `drainTimeoutMs`. When a task
   * never settles the drain cannot finish: the worker threads are stopped, which rejects the
   * task, so the consumer's fetch loop ends and it can leave; the messages it held were not
   * committed and are consumed again. Never throws.
   */
  async drain(drainTimeoutMs: number): Promise<void> {
    const drained = Promise.allSettled(this.running.map((r) => r.consumer.stop()))
    if (await within(drained, drainTimeoutMs)) return
    logger.error({ timeoutMs: drainTimeoutMs }, 'drain did not finish in time (a task never settled); stopping the worker threads so the consumers can leave their groups; uncommitted messages will be consumed again')
    await within(this.closePools(), 10_000)
    if (!(await within(drained, 10_000))) logger.error('consumers did not stop; exiting anyway: the broker drops them after the session timeout')
  }

  /** Closes every transform pool (idempotent per pool). Never rejects. */
  closePools(): Promise<unknown> {
    return Promise.allSettled(this.running.map((r) => r.pool.close()))
  }
}
