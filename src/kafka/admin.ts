/**
 * Topic provisioning. Idempotent: creates missing topics, grows partition counts, and aligns
 * `retention.ms` with the stream's retentionPeriod (contract: retentionPeriod is in seconds).
 */
import kafkajs, { type Admin } from 'kafkajs'
import { stageLog } from '../util/log.ts'

// kafkajs is CommonJS; this enum is not visible as a named ESM export.
const { ConfigResourceTypes } = kafkajs
const logger = stageLog('kafka')

export interface TopicSpec {
  topic: string
  /** Number of partitions (the stream's parallelism). */
  partitions: number
  /** Retention in milliseconds. */
  retentionMs: number
}

/**
 * Makes every topic exist with at least `partitions` partitions and the given retention.
 * Partition counts never shrink (Kafka cannot); a larger existing count is kept and logged.
 * @throws kafkajs errors when the broker is unreachable or refuses the change.
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<void> {
  if (specs.length === 0) return
  const existing = new Set(await admin.listTopics())
  const missing = specs.filter((s) => !existing.has(s.topic))
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: -1,
        configEntries: [{ name: 'retention.ms', value: String(s.retentionMs) }],
      })),
    })
    logger.info({ topics: missing.map((s) => s.topic) }, 'created topics')
  }
  const present = specs.filter((s) => existing.has(s.topic))
  if (present.length === 0) return
  const metadata = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) })
  const grow = present.filter((s) => {
    const have = metadata.topics.find((t) => t.name === s.topic)?.partitions.length ?? 0
    if (have > s.partitions) logger.warn({ topic: s.topic, have, want: s.partitions }, 'topic has more partitions than parallelism; keeping them')
    return have < s.partitions
  })
  if (grow.length > 0) {
    await admin.createPartitions({ topicPartitions: grow.map((s) => ({ topic: s.topic, count: s.partitions })) })
    logger.info({ topics: grow.map((s) => s.topic) }, 'grew topic partitions')
  }
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.topic, configNames: ['retention.ms'] })),
  })
  const retune = present.filter((s) => {
    const entry = configs.resources.find((r) => r.resourceName === s.topic)?.configEntries.find((e) => e.configName === 'retention.ms')
    return entry?.configValue !== String(s.retentionMs)
  })
  if (retune.length > 0) {
    await admin.alterConfigs({
      validateOnly: false,
      resources: retune.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.topic, configEntries: [{ name: 'retention.ms', value: String(s.retentionMs) }] })),
    })
    logger.info({ topics: retune.map((s) => s.topic) }, 'updated retention.ms')
  }
}
