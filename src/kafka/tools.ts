/**
 * Stream tooling: peeking at a stream's newest messages and resetting a pipeline's Kafka state
 * (`flowhouse peek`, `flowhouse reset`, and the same over the admin API).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Admin, Kafka } from 'kafkajs'
import { FlowhouseError } from '../errors.ts'
import { dlqTopicOf, replayLedgerOf } from './dlq-replay.ts'
import { readTopicSnapshot, type TopicMessage } from './read.ts'

/**
 * The newest `limit` messages of a stream's topic (across partitions), oldest first.
 * @throws FlowhouseError NOT_FOUND when the topic does not exist.
 */
export async function peekStream(kafka: Kafka, stream: string, limit = 10): Promise<TopicMessage[]> {
  const messages = await readTopicSnapshot(kafka, stream, { start: (_p, low, high) => Math.max(low, high - limit) })
  return messages.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || Number(a.offset) - Number(b.offset)).slice(-limit)
}

/**
 * Deletes a consumer group, retrying for up to 10 s while the coordinator still winds down the
 * members that just left (NON_EMPTY_GROUP, COORDINATOR_LOAD_IN_PROGRESS ...); a group that is
 * already gone counts as deleted. @throws FlowhouseError KAFKA_ERROR naming the broker's error.
 */
async function deleteGroup(admin: Admin, group: string): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      await admin.deleteGroups([group])
      return
    } catch (error) {
      const inner = (error as { groups?: Array<{ error?: { type?: string; message?: string } }> }).groups?.[0]?.error
      if (inner?.type === 'GROUP_ID_NOT_FOUND') return
      if (Date.now() > deadline) throw new FlowhouseError('KAFKA_ERROR', `could not delete consumer group "${group}": ${inner?.message ?? (error as Error).message}`, { retriable: true, cause: error })
      await sleep(500)
    }
  }
}

export interface ResetResult {
  pipeline: string
  /** Topics deleted (the ingest topic, the DLQ and its replay ledger, those that existed). */
  topics: string[]
  /** The consumer group deleted, or null when it did not exist. */
  group: string | null
}

/**
 * Resets a pipeline's Kafka state: deletes its ingest topic, `<pipeline>.dlq`,
 * `<pipeline>.dlq.replayed` and its consumer group `<groupPrefix>.<pipeline>`. The daemon creates
 * the topics again when it next loads the pipeline; ClickHouse tables are left as they are.
 * @throws FlowhouseError BAD_REQUEST with `context.conflict` when the group has active members
 *   (a daemon is consuming the pipeline: reset through its admin API, which stops its own
 *   consumer meanwhile, or stop it first), NOT_FOUND when there is nothing to reset.
 */
export async function resetPipeline(kafka: Kafka, pipeline: string, groupPrefix = 'flowhouse'): Promise<ResetResult> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const group = `${groupPrefix}.${pipeline}`
    const { groups } = await admin.describeGroups([group])
    const members = groups[0]?.members.length ?? 0
    if (members > 0) {
      throw new FlowhouseError('BAD_REQUEST', `consumer group "${group}" has ${members} active member(s): a daemon is consuming pipeline "${pipeline}"; reset through that daemon's admin API (POST /api/pipelines/${pipeline}/reset, which stops its own consumer meanwhile), or stop it first`, { context: { pipeline, conflict: true } })
    }
    const existing = new Set(await admin.listTopics())
    const topics = [pipeline, dlqTopicOf(pipeline), replayLedgerOf(pipeline)].filter((t) => existing.has(t))
    const listed = new Set((await admin.listGroups()).groups.map((g) => g.groupId))
    if (topics.length === 0 && !listed.has(group)) throw new FlowhouseError('NOT_FOUND', `pipeline "${pipeline}" has no topics and no consumer group "${group}" to reset`, { context: { pipeline } })
    if (topics.length > 0) {
      await admin.deleteTopics({ topics, timeout: 30_000 })
      const deadline = Date.now() + 30_000
      while ((await admin.listTopics()).some((t) => topics.includes(t))) {
        if (Date.now() > deadline) throw new FlowhouseError('KAFKA_ERROR', `topics ${topics.join(', ')} were not deleted within 30 s`, { retriable: true, context: { pipeline } })
        await sleep(200)
      }
    }
    if (listed.has(group)) await deleteGroup(admin, group)
    return { pipeline, topics, group: listed.has(group) ? group : null }
  } finally {
    await admin.disconnect()
  }
}
