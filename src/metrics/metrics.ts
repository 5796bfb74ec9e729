/**
 * The metric catalog (prom-client). Stages update these; nothing else defines metrics.
 * Names carry the `flowhouse_` prefix and unit suffixes; labels are bounded (pipeline,
 * table, topic, stage, partition, error code) and never carry record keys.
 */
import client from 'prom-client'

export const registry = new client.Registry()
client.collectDefaultMetrics({ register: registry, prefix: 'flowhouse_' })

const counter = (name: string, help: string, labelNames: string[]) =>
  new client.Counter({ name, help, labelNames, registers: [registry] })
const gauge = (name: string, help: string, labelNames: string[]) =>
  new client.Gauge({ name, help, labelNames, registers: [registry] })
const histogram = (name: string, help: string, labelNames: string[], buckets: number[]) =>
  new client.Histogram({ name, help, labelNames, buckets, registers: [registry] })

const secondsBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export const metrics = {
  messagesConsumed: counter('flowhouse_messages_consumed_total', 'Kafka messages consumed from ingest topics.', ['pipeline']),
  recordsConsumed: counter('flowhouse_records_consumed_total', 'Records consumed (a message that is not a JSON array counts as one record).', ['pipeline']),
  bytesIn: counter('flowhouse_bytes_in_total', 'Bytes of Kafka message values consumed.', ['pipeline']),
  recordsWritten: counter('flowhouse_records_written_total', 'Rows acknowledged by ClickHouse inserts.', ['pipeline', 'table']),
  recordsProduced: counter('flowhouse_records_produced_total', 'Records a transform sent on to another stream.', ['pipeline', 'topic']),
  recordsDeadLettered: counter('flowhouse_records_dead_lettered_total', 'Records sent to the dead-letter queue, by stage.', ['pipeline', 'stage']),
  recordsReplayed: counter('flowhouse_records_replayed_total', 'Records consumed from messages re-ingesting dead letters (flowhouse dlq replay); also counted in flowhouse_records_consumed_total.', ['pipeline']),
  recordsFiltered: counter('flowhouse_records_filtered_total', 'Records a transform returned null or [] for, by the transform\'s destination (table or stream).', ['pipeline', 'destination']),
  recordsUnknownFields: counter('flowhouse_records_unknown_fields_total', 'Valid records that carried fields not in the schema, processed without them (unknownFields: ignore).', ['pipeline']),
  schemaEvolution: counter('flowhouse_schema_evolution_total', 'Schema registry writer schemas against the pipeline schema: columns added for new fields (column_added), and removed, retyped or unstorable fields refused (refused, logged with the reason).', ['pipeline', 'outcome']),
  batches: counter('flowhouse_batches_flushed_total', 'Partition batches flushed and committed.', ['pipeline']),
  batchRows: histogram('flowhouse_batch_rows', 'Rows per ClickHouse insert.', ['table'], [10, 100, 1_000, 5_000, 10_000, 50_000, 100_000, 500_000]),
  batchBytes: histogram('flowhouse_batch_bytes', 'Bytes per ClickHouse insert (JSONEachRow).', ['table'], [1e3, 1e4, 1e5, 1e6, 4e6, 16e6, 64e6]),
  insertDuration: histogram('flowhouse_clickhouse_insert_duration_seconds', 'ClickHouse insert latency.', ['table'], secondsBuckets),
  insertRetries: counter('flowhouse_clickhouse_insert_retries_total', 'Retried ClickHouse inserts, by error code.', ['table', 'code']),
  insertErrors: counter('flowhouse_clickhouse_insert_errors_total', 'Failed ClickHouse insert attempts, by error code.', ['table', 'code']),
  transformDuration: histogram('flowhouse_transform_duration_seconds', 'Time to decode, validate and transform one Kafka message in a worker.', ['pipeline'], secondsBuckets),
  endToEndLatency: histogram('flowhouse_end_to_end_latency_seconds', 'From the Kafka message timestamp to the insert acknowledgement.', ['pipeline'], [0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 7.5, 10, 30, 60, 300]),
  pausedPartitions: gauge('flowhouse_paused_partitions', 'Partitions whose consumption waits on a retried insert.', ['pipeline']),
  ingestRequests: counter('flowhouse_ingest_requests_total', 'POST /ingest requests, by status code.', ['pipeline', 'code']),
  // HTTP port (src/http): `route` is a declared route pattern (or `unknown`), `reason` and `status` are fixed sets.
  httpServerErrors: counter('flowhouse_http_server_errors_total', 'HTTP answers with a 5xx status, by route pattern, status and error code (each is logged with its cause).', ['method', 'route', 'status', 'code']),
  httpRefused: counter('flowhouse_http_refused_total', 'HTTP requests refused before their route ran, by reason (missing_key, unknown_key, scope, host, media_type).', ['reason']),
  ingestRecords: counter('flowhouse_ingest_records_total', 'Records accepted by POST /ingest and produced to the topic.', ['pipeline']),
  constraintChecks: counter('flowhouse_constraint_checks_total', 'Records evaluated by a constraint.', ['pipeline', 'constraint']),
  constraintViolations: counter('flowhouse_constraint_violations_total', 'Constraint violations, by action (throttle, dead_letter, drop, rejected).', ['pipeline', 'constraint', 'type', 'action']),
  constraintThrottleSeconds: counter('flowhouse_constraint_throttle_seconds_total', 'Seconds consumption waited on a constraint (rate throttling, memory pauses, CPU throttling).', ['pipeline', 'constraint']),
  constraintPauses: counter('flowhouse_constraint_pauses_total', 'Times consumption paused because the daemon was over max_memory_mb.', ['pipeline', 'constraint']),
  constraintResumes: counter('flowhouse_constraint_resumes_total', 'Times consumption resumed after a max_memory_mb pause.', ['pipeline', 'constraint']),
  recordsDropped: counter('flowhouse_records_dropped_total', 'Records removed by a constraint whose action is drop.', ['pipeline', 'constraint']),
  pipelinesLoaded: gauge('flowhouse_pipelines_loaded', 'Pipeline modules loaded and running.', []),
  moduleLoadErrors: gauge('flowhouse_module_load_errors', 'Pipeline modules that failed to load or check.', []),
  // Operations (src/metrics/lag.ts, src/health/): lag per partition (bounded by parallelism) and readiness per check.
  consumerLag: gauge('flowhouse_consumer_lag_messages', 'Messages in a partition after the consumer group\'s committed offset (high watermark minus committed offset).', ['pipeline', 'topic', 'partition']),
  committedOffset: gauge('flowhouse_consumer_committed_offset', 'Offset the consumer group committed (the next offset it reads).', ['pipeline', 'topic', 'partition']),
  consumerPosition: gauge('flowhouse_consumer_position_offset', 'Offset after the last message this member took into a partition batch (the next one it consumes); position minus committed offset is what is in flight. Absent until the first message after a join.', ['pipeline', 'topic', 'partition']),
  topicHighWatermark: gauge('flowhouse_topic_high_watermark', 'High watermark of a partition (the offset the next produced message gets).', ['pipeline', 'topic', 'partition']),
  partitionStalled: gauge('flowhouse_partition_stalled', 'Partitions with lag whose committed offset has not moved for FLOWHOUSE_STALL_SECONDS: 1 stalled, 0 moving.', ['pipeline', 'partition']),
  ready: gauge('flowhouse_ready', 'Readiness checks: 1 when the check passes, 0 when it fails (refreshed by GET /ready and periodically).', ['check']),
  // Materialized views (src/views): `view` is bounded by the views declared in modules or created through the API.
  mvRefreshDuration: histogram('flowhouse_mv_refresh_duration_seconds', 'Duration of materialized-view refreshes, backfills and rebuilds.', ['view', 'kind'], [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900]),
  mvRefreshes: counter('flowhouse_mv_refreshes_total', 'Materialized-view refreshes, backfills and rebuilds, by kind (backfill, full, incremental) and status (ok, error).', ['view', 'kind', 'status']),
  mvLastRefreshDuration: gauge('flowhouse_mv_last_refresh_duration_seconds', 'Duration of the last successful refresh of a view.', ['view']),
  mvLastRefreshTime: gauge('flowhouse_mv_last_refresh_timestamp_seconds', 'Unix time the last successful refresh of a view ended.', ['view']),
  mvStaleness: gauge('flowhouse_mv_staleness_seconds', "How long a view has been behind its source's newest data (0 when fresh).", ['view']),
  mvGracePeriod: gauge('flowhouse_mv_grace_period_seconds', 'How long a view may stay stale and still count as usable (its refresh gracePeriod).', ['view']),
  mvState: gauge('flowhouse_mv_state', "1 for a view's current state (fresh, stale, refreshing), 0 for the others.", ['view', 'state']),
  mvBackfillRows: counter('flowhouse_mv_backfill_rows_total', 'Source rows backfilled into materialized views.', ['view']),
  mvBackfillProgress: gauge('flowhouse_mv_backfill_progress_ratio', 'Backfill progress of a view, from 0 to 1.', ['view']),
}
