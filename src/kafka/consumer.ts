/**
 * One consumer group per stream (`<groupPrefix>.<stream>`), reading the stream's topic.
 *
 * Each message goes to the stream's transform pool (decode, validate, transform) and its
 * result joins the partition's open batch. A batch is flushed when it reaches maxRows or
 * maxBytes, or flushIntervalMs after it opened. A flush runs the delivery protocol
 * (delivery/protocol.ts: pending mark, inserts, produces, dead letters, final commit) over the
 * group's commits, ClickHouse and the producer. When it fails, the partition seeks back to the
 * batch's first offset and re-forms exactly the same range (same tokens: no duplicates); after a
 * crash, the pending mark committed by the group does the same (DESIGN.md "Delivery").
 *
 * Delivery is pipelined per partition: while one batch is delivered, the next one fills (its
 * messages are fetched and processed by the workers). At most one batch per partition is being
 * delivered, and the next starts only after the previous one's final commit, so commits stay in
 * offset order and a partition holds at most two batches (the bound of FLOWHOUSE_BATCH_MAX_BYTES
 * and FLOWHOUSE_BATCH_MAX_ROWS, twice). A full batch waiting for the previous delivery stops the
 * partition taking messages: that is the backpressure. When a delivery fails, the batch filling
 * behind it is dropped with it and both ranges are consumed again.
 *
 * A message re-ingesting a dead letter (header `flowhouse-dlq`, see dlq.ts) is a batch of its
 * own, and its inserts carry the token `<table>:replay:<dlq topic>:<partition>:<offset>`: the
 * same entry replayed twice is written once.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs'
import type { ClickHouse } from '../clickhouse/client.ts'
import { evolveTable } from '../clickhouse/evolve.ts'
import { enforce, resourceGate } from './enforce.ts'
import type { ConstraintRegistry } from '../constraints/registry.ts'
import { processingLimitOf } from '../constraints/evaluate.ts'
import type { ConstraintSnapshot } from '../constraints/types.ts'
import type { BatchOptions, DecodeOptions, GroupOptions } from './options.ts'
import { PartitionBatch } from '../delivery/batch.ts'
import { parsePending } from '../delivery/pending.ts'
import { PartitionState, type ConsumerStatus } from './partition.ts'
import { deliverBatch, type DeliveryPort } from '../delivery/protocol.ts'
import { writeTable } from '../delivery/sink.ts'
import { messageOf } from '../errors.ts'
import { metrics } from '../metrics/metrics.ts'
import type { StreamLike } from '../model/types.ts'
import { rawFields, rejectedMessage } from '../transforms/decode.ts'
import type { TransformPool } from '../transforms/pool.ts'
import type { WorkResult, WorkTask } from '../transforms/types.ts'
import { stageLog } from '../util/log.ts'
import { DLQ_HEADER, SKIP_TABLE_HEADER, type DlqWriter } from './dlq.ts'
import { untilProcessed } from './retry-wait.ts'
import type { RecordProducer } from './producer.ts'

export interface StreamConsumerOptions {
  kafka: Kafka
  admin: Admin
  ch: ClickHouse
  producer: RecordProducer
  pool: TransformPool
  stream: StreamLike
  /** Module file and version the workers load the stream from. */
  file: string
  version: string
  groupId: string
  /** Name used in metric labels and DLQ entries. */
  pipeline: string
  /** DLQ topic, or undefined when the pipeline turned the dead-letter queue off. */
  dlqTopic: string | undefined
  batch: BatchOptions
  /** Session timeout and heartbeat interval of the group membership. */
  group: GroupOptions
  recordsPerMessage: number
  /** Running constraints; the stream's pipeline constraints apply when present. */
  constraints?: ConstraintRegistry
  /** Writes dead-letter entries within the DLQ topic's message limit. */
  dlqWriter: DlqWriter
  /** Depth and size bounds on messages and records. */
  decode: DecodeOptions
  /** Leading bytes of a message kept in a dead-letter entry (FLOWHOUSE_DLQ_RAW_KEEP_BYTES). */
  rawKeepBytes: number
}

/**
 * At most this many consecutive messages, or this many bytes of them, go to a worker as one task:
 * one crossing of the thread boundary each way for many small messages (a task costs the main
 * thread tens of µs: posting, waking the worker, the answer).
 */
const GROUP_MESSAGES = 256
const GROUP_BYTES = 1024 * 1024

export class StreamConsumer {
  private readonly consumer: Consumer
  private readonly partitions = new Map<number, PartitionState>()
  /**
   * Per partition, the batch being delivered or the last one delivered (never rejects). Kept by
   * partition number, not state, so a partition revoked and assigned again delivers in order too.
   */
  private readonly deliveries = new Map<number, Promise<void>>()
  private readonly log
  private timer: NodeJS.Timeout | undefined
  private draining = false
  private stopped = false
  private readonly abort = new AbortController()
  readonly status: ConsumerStatus

  constructor(private readonly o: StreamConsumerOptions) {
    this.log = stageLog('consumer', { stream: o.stream.name, groupId: o.groupId })
    this.consumer = o.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.group.sessionTimeoutMs,
      heartbeatInterval: o.group.heartbeatIntervalMs,
      maxBytesPerPartition: o.group.fetchMaxBytesPerPartition,
      maxBytes: o.group.fetchMaxBytes,
      allowAutoTopicCreation: false,
    })
    this.status = { groupId: o.groupId, topic: o.stream.name, joined: false, partitions: [] }
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const assigned = (e.payload.memberAssignment[o.stream.name] ?? []).slice().sort((a, b) => a - b)
      this.status.joined = true
      this.status.partitions = assigned
      for (const [p, state] of this.partitions) {
        state.initialized = false
        if (!assigned.includes(p)) this.partitions.delete(p)
        // The group delivers again from the committed offset: the position is unknown until then.
        this.forgetPosition(p)
      }
      this.log.info({ partitions: assigned }, 'joined consumer group')
    })
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.status.lastError = messageOf(e.payload.error)
      this.status.joined = false
      this.log.error({ error: this.status.lastError, restart: e.payload.restart }, 'consumer crashed')
    })
  }

  /** Connects, subscribes from the earliest offset when the group has none, and starts consuming. */
  async start(): Promise<void> {
    await this.consumer.connect()
    await this.consumer.subscribe({ topic: this.o.stream.name, fromBeginning: true })
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, this.o.stream.config.parallelism),
      eachBatch: (payload) => this.eachBatch(payload),
    })
    this.timer = setInterval(() => this.flushDue(), Math.max(50, Math.min(250, this.o.batch.flushIntervalMs / 4)))
    this.timer.unref()
  }

  private state(partition: number): PartitionState {
    let s = this.partitions.get(partition)
    if (!s) this.partitions.set(partition, (s = new PartitionState(partition)))
    return s
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const state = this.state(batch.partition)
    state.heartbeat = heartbeat
    const inflight: Array<{ message: KafkaMessage; result: Promise<WorkResult>; task?: WorkTask; bytes: number }> = []
    // Value bytes of the messages in `inflight`; with its length, bounded by the in-flight window.
    let inflightBytes = 0
    const window = { messages: this.o.batch.inflightMessages, bytes: this.o.batch.inflightBytes }
    const registry = this.o.constraints
    const pipeline = this.o.pipeline
    // Set when a message waiting on a retry (retry-wait.ts) saw the batch stop: nothing after it is applied.
    let halted = false
    const apply = async () => {
      const next = inflight.shift()!
      inflightBytes -= next.bytes
      const first = await next.result
      const context = { pool: this.o.pool, pipeline, topic: batch.topic, partition: batch.partition, offset: next.message.offset, heartbeat, running: () => running() }
      const result = first.retry === undefined ? first : await untilProcessed(first, next.task, context)
      if (result === undefined) {
        halted = true
        return
      }
      // A new writer schema's columns exist before the batch holding its first message is inserted.
      if (result.evolution && this.o.stream.destination) await evolveTable(this.o.ch, this.o.stream.destination, result.evolution, { pipeline, heartbeat, signal: this.abort.signal })
      if (registry && result.constraints) {
        await enforce(result, { pipeline, registry, source: `${batch.topic}:${batch.partition}:${next.message.offset}`, heartbeat })
      }
      if (await state.exclusive(() => this.accept(state, next.message, result))) resolveOffset(next.message.offset)
      await heartbeat()
    }
    // Consecutive messages go to a worker as one task; each keeps its own result, applied in offset order.
    let group: Array<{ task: WorkTask; settle: (result: Promise<WorkResult>) => void }> = []
    let groupBytes = 0
    const dispatch = () => {
      if (group.length === 0) return
      const sent = group
      group = []
      groupBytes = 0
      const results = this.o.pool.runMany(sent.map((m) => m.task))
      sent.forEach((m, i) => m.settle(results.then((r) => r[i]!)))
    }
    const running = () => isRunning() && !isStale() && !this.draining && !halted
    // When the window is full: dispatch what is grouped, then apply results down to half the
    // window, so the next tasks are whole groups again (not one message each).
    const full = () => inflight.length >= window.messages || inflightBytes >= window.bytes
    const relieve = async () => {
      dispatch()
      while (inflight.length > 0 && running() && (inflight.length > window.messages / 2 || inflightBytes > window.bytes / 2)) await apply()
    }
    for (const message of batch.messages) {
      if (!running()) break
      const rejected = this.rejectEarly(message.value)
      if (rejected) {
        inflight.push({ message, result: Promise.resolve(rejected), bytes: 0 })
        if (full()) await relieve()
        continue
      }
      const value = message.value!
      let constraints: ConstraintSnapshot[] | undefined
      if (registry) {
        await resourceGate(registry, pipeline, 1, heartbeat, dispatch)
        constraints = registry.snapshots(pipeline)
      }
      const { maxDepth, maxRecordBytes } = this.o.decode
      const bounds = { maxDepth, maxRecordBytes, rawKeepBytes: this.o.rawKeepBytes }
      const skipTable = message.headers?.[SKIP_TABLE_HEADER]?.toString()
      // A replayed dead letter is a JSON array, whatever the pipeline's format.
      const json = message.headers?.[DLQ_HEADER] !== undefined
      const task: WorkTask = { file: this.o.file, version: this.o.version, stream: this.o.stream.name, value, bounds, ...(constraints?.length ? { constraints } : {}), ...(skipTable ? { skipTable } : {}), ...(json ? { json } : {}) }
      const limitMs = processingLimitOf(constraints)?.ms
      if (limitMs !== undefined) {
        // A processing limit watches one message's records: such a message is a task of its own.
        inflight.push({ message, result: this.o.pool.run(task, limitMs), task, bytes: value.length })
      } else {
        let settle!: (result: Promise<WorkResult>) => void
        inflight.push({ message, result: new Promise<WorkResult>((resolve) => (settle = resolve)), task, bytes: value.length })
        group.push({ task, settle })
        groupBytes += value.length
        if (group.length >= GROUP_MESSAGES || groupBytes >= GROUP_BYTES) dispatch()
      }
      inflightBytes += value.length
      if (full()) await relieve()
    }
    // Nothing is awaited between here and the check below: a batch that stopped running leaves
    // its undispatched messages unsettled, and the loop below drops them without awaiting.
    if (running()) dispatch()
    while (inflight.length > 0) {
      if (!isRunning() || isStale() || this.draining || halted) {
        // Results not applied are not resolved either: the messages are fetched again.
        inflight.splice(0).forEach((i) => i.result.catch(() => undefined))
        break
      }
      await apply()
    }
  }

  /**
   * A message dead-lettered without going to a worker: a null value (tombstone), or one over
   * FLOWHOUSE_MAX_MESSAGE_BYTES (only its first FLOWHOUSE_DLQ_RAW_KEEP_BYTES are kept).
   */
  private rejectEarly(value: Buffer | null): WorkResult | undefined {
    const started = performance.now()
    if (value === null) return rejectedMessage({ stage: 'decode', errorType: 'null_value', reason: 'message value is null (a tombstone); the ingest format is JSON_ARRAY' }, started)
    const max = this.o.decode.maxMessageBytes
    if (value.length <= max) return undefined
    const reason = `message is ${value.length} bytes, over FLOWHOUSE_MAX_MESSAGE_BYTES=${max}`
    return rejectedMessage({ stage: 'decode', errorType: 'message_too_large', reason, ...rawFields(value, this.o.rawKeepBytes, true) }, started)
  }

  private async loadPending(state: PartitionState): Promise<void> {
    const [topic] = await this.o.admin.fetchOffsets({ groupId: this.o.groupId, topics: [this.o.stream.name] })
    state.pending = parsePending(topic?.partitions.find((p) => p.partition === state.partition))
    if (state.pending) this.log.info({ partition: state.partition, pending: state.pending }, 'resuming a batch that was marked pending; it is re-formed with the same boundaries')
    state.initialized = true
  }

  /**
   * Adds one processed message to its partition batch and flushes when a limit is reached.
   * @returns false when the message is stale (fetched before a seek-back) and was ignored.
   */
  private async accept(state: PartitionState, message: KafkaMessage, result: WorkResult): Promise<boolean> {
    const offset = Number(message.offset)
    if (state.resumeAt !== undefined) {
      if (offset !== state.resumeAt) return false
      state.resumeAt = undefined
    }
    // A delivery that fails while this message waits seeks the partition back: the message is stale then.
    const epoch = state.epoch
    if (!state.initialized) await this.loadPending(state)
    if (state.epoch !== epoch) return false
    if (offset <= state.lastSeen) {
      // The group re-delivered from the committed offset (rebalance): start the batch again.
      state.batch = new PartitionBatch()
    }
    state.lastSeen = offset
    metrics.consumerPosition.set(this.positionLabels(state.partition), offset + 1)
    // A pending range must be re-formed exactly: flush at its last offset, never across it.
    if (state.pending && !state.batch.empty && offset > state.pending.last) await this.flush(state)
    const replay = message.headers?.[DLQ_HEADER]?.toString()
    // A replayed dead letter is a batch of its own (its token names the entry, not the offsets).
    if (replay && !state.batch.empty) await this.flush(state)
    if (state.epoch !== epoch) return false
    const source = { pipeline: this.o.pipeline, stream: this.o.stream.name, topic: this.o.stream.name, partition: state.partition, offset: message.offset }
    state.batch.add(offset, Number(message.timestamp), result, source)
    const pipeline = this.o.pipeline
    if (replay) {
      state.batch.replay = replay
      metrics.recordsReplayed.inc({ pipeline }, result.records)
    }
    metrics.messagesConsumed.inc({ pipeline })
    metrics.recordsConsumed.inc({ pipeline }, result.records)
    metrics.bytesIn.inc({ pipeline }, message.value?.length ?? 0)
    metrics.transformDuration.observe({ pipeline }, result.durationMs / 1000)
    const b = state.batch
    if (state.pending) {
      if (offset >= state.pending.last) await this.flush(state)
    } else if (b.replay !== undefined || b.rows >= this.o.batch.maxRows || b.heldBytes >= this.o.batch.maxBytes || b.records >= this.o.batch.maxRows) {
      await this.flush(state)
    }
    return true
  }

  private positionLabels(partition: number): { pipeline: string; topic: string; partition: string } {
    return { pipeline: this.o.pipeline, topic: this.o.stream.name, partition: String(partition) }
  }

  private forgetPosition(partition: number): void {
    metrics.consumerPosition.remove(this.positionLabels(partition))
  }

  private flushDue(): void {
    const now = Date.now()
    for (const state of this.partitions.values()) {
      const b = state.batch
      if (b.empty || state.pending || now - b.openedAt < this.o.batch.flushIntervalMs) continue
      void state.exclusive(() => (state.batch === b ? this.flush(state) : Promise.resolve()))
    }
  }

  /** The partition's side of the delivery protocol: group commits, ClickHouse inserts, produces, dead letters. */
  private port(state: PartitionState): DeliveryPort {
    const { ch, pipeline, producer, recordsPerMessage, dlqTopic, dlqWriter, batch } = this.o
    const topic = this.o.stream.name
    const signal = this.abort.signal
    return {
      commit: (partition, offset, metadata) => this.consumer.commitOffsets([{ topic, partition, offset: String(offset), metadata }]),
      insert: (table, rows, token, count) => writeTable({ ch, pipeline, heartbeat: state.heartbeat, signal, retry: { baseMs: batch.insertRetryBaseMs, maxMs: batch.insertRetryMaxMs } }, table, rows, token, count),
      produce: (destination, records) => producer.sendRecords(destination, records, recordsPerMessage),
      deadLetter: dlqTopic ? (groups) => dlqWriter.send(dlqTopic, groups, state.heartbeat) : undefined,
    }
  }

  /**
   * Hands the partition's batch to delivery (caller holds the partition's exclusive section). It
   * waits for the batch delivered before it, if any, so the returned promise resolves once this
   * batch's delivery has started; `deliveries` holds the promise of its end.
   */
  private async flush(state: PartitionState): Promise<void> {
    const b = state.batch
    if (b.empty) return
    state.batch = new PartitionBatch()
    const epoch = state.epoch
    await this.deliveries.get(state.partition)
    // The delivery before it failed: this range is consumed again from the failed one's first offset.
    if (state.epoch !== epoch) return
    // A batch handed to delivery ends the range marked pending (a failure marks its own range again).
    state.pending = undefined
    this.deliveries.set(state.partition, this.deliver(state, b))
  }

  /** Runs the delivery protocol over `b`; on failure, seeks back to re-form the same range. Never rejects. */
  private async deliver(state: PartitionState, b: PartitionBatch): Promise<void> {
    const topic = this.o.stream.name
    const partition = state.partition
    try {
      await deliverBatch(this.port(state), b, { pipeline: this.o.pipeline, stream: topic, topic, partition }, this.log)
    } catch (error) {
      // The range may be partly written. Drop what followed it, seek back to its first offset
      // and re-form exactly the same range when it comes again (same tokens: no duplicates).
      state.epoch++
      state.pending = { first: b.first, last: b.last }
      state.batch = new PartitionBatch()
      state.lastSeen = b.first - 1
      state.resumeAt = b.first
      metrics.consumerPosition.set(this.positionLabels(partition), b.first)
      this.log.error({ partition, first: b.first, last: b.last, err: error }, 'batch flush failed; seeking back to consume the range again')
      // A partition revoked meanwhile is consumed again by its new owner from the committed offset.
      if (!this.stopped && this.partitions.get(partition) === state) {
        this.consumer.seek({ topic, partition, offset: String(b.first) })
        await sleep(1_000)
      }
    }
  }

  /**
   * Drains: stops taking messages, flushes and commits every open batch, then leaves the
   * group. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.draining = true
    if (this.timer) clearInterval(this.timer)
    await Promise.allSettled([...this.partitions.values()].map((s) => s.exclusive(() => this.flush(s))))
    await Promise.all(this.deliveries.values())
    this.abort.abort()
    await this.consumer.disconnect().catch((error) => this.log.warn({ err: error }, 'disconnect failed'))
    for (const p of this.partitions.keys()) this.forgetPosition(p)
    this.status.joined = false
  }
}
