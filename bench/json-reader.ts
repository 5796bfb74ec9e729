/**
 * Child process of `npm run bench`: a plain kafkajs consumer (fresh consumer group, from the
 * beginning, eachMessage) that JSON.parses every message and counts the records; the lower
 * bound of any Node reader of the topic. Protocol in bench/child.ts; the report is the count.
 */
import { Kafka, logLevel } from 'kafkajs'
import { BROKERS } from '../test/integration/helpers.ts'
import { announceReady, reportAndExit, waitForReportRequest } from './child.ts'

const args = JSON.parse(process.argv[2]!) as { topic: string; group: string; rows: number; timeoutMs: number }
const consumer = new Kafka({ clientId: 'flowhouse-bench', brokers: BROKERS, logLevel: logLevel.NOTHING }).consumer({ groupId: args.group })
let records = 0
let reached: () => void
const all = new Promise<void>((resolve) => (reached = resolve))
await consumer.connect()
await consumer.subscribe({ topic: args.topic, fromBeginning: true })
await consumer.run({
  eachMessage: async ({ message }) => {
    records += (JSON.parse(message.value!.toString()) as unknown[]).length
    if (records >= args.rows) reached()
  },
})
announceReady()
const timer = setTimeout(() => {
  console.error(`read ${records} of ${args.rows} records within ${args.timeoutMs} ms`)
  process.exit(1)
}, args.timeoutMs)
await all
clearTimeout(timer)
console.log(JSON.stringify({ done: true }))
await waitForReportRequest()
await consumer.disconnect()
reportAndExit({ records })
