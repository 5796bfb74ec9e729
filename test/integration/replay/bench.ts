/**
 * Measures replay throughput and peak RSS: all rows of flights-3m.parquet into a fresh topic with
 * 2 partitions on the local broker (created, then deleted).
 *   node --import tsx test/integration/replay/bench.ts [--no-idempotent] [--in-thread] [--in-flight N] [--send-bytes N] [--batch N]
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { replay } from '../../../src/replay/index.ts'

const { values } = parseArgs({
  options: {
    'no-idempotent': { type: 'boolean', default: false },
    'in-thread': { type: 'boolean', default: false },
    'in-flight': { type: 'string', default: '4' },
    'send-bytes': { type: 'string', default: String(1 << 20) },
    batch: { type: 'string', default: '1000' },
    limit: { type: 'string' },
    file: { type: 'string', default: 'node_modules/vega-datasets/data/flights-3m.parquet' },
  },
})
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const topic = `replay-bench-${randomUUID().slice(0, 8)}`
const admin = new Kafka({ clientId: 'replay-bench', brokers, logLevel: logLevel.NOTHING }).admin()
await admin.connect()
await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true })
/** CPU seconds used so far by the local broker (pid from scripts/services.sh), if it can be read. */
function brokerCpuSeconds(): number | undefined {
  try {
    const pid = readFileSync('.services/kafka/pid', 'utf8').trim()
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}
const brokerCpu0 = brokerCpuSeconds()
const cpu0 = process.cpuUsage()
const load0 = loadavg()[0]
let peakRss = process.memoryUsage().rss
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50)
try {
  const result = await replay({
    file: values.file,
    topic,
    brokers,
    batch: Number(values.batch),
    limit: values.limit === undefined ? undefined : Number(values.limit),
    idempotent: !values['no-idempotent'],
    encodeInWorker: !values['in-thread'],
    maxInFlight: Number(values['in-flight']),
    sendBytes: Number(values['send-bytes']),
  })
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
  const offsets = await admin.fetchTopicOffsets(topic)
  const rate = Math.round(result.records / (result.durationMs / 1_000))
  const cpu = process.cpuUsage(cpu0)
  const brokerCpu1 = brokerCpuSeconds()
  const machine = { cores: cpus().length, load1mBefore: load0, load1mAfter: loadavg()[0] }
  const cpuSeconds = { replay: +((cpu.user + cpu.system) / 1e6).toFixed(1), broker: brokerCpu0 === undefined || brokerCpu1 === undefined ? undefined : +(brokerCpu1 - brokerCpu0).toFixed(1) }
  console.log(JSON.stringify({ ...result, recordsPerSecond: rate, mbPerSecond: +(result.bytes / 1e6 / (result.durationMs / 1_000)).toFixed(1), peakRssMb: Math.round(peakRss / 1e6), partitionOffsets: offsets.map((o) => o.high), cpuSeconds, machine, idempotent: !values['no-idempotent'], encodeInWorker: !values['in-thread'], maxInFlight: Number(values['in-flight']), sendBytes: Number(values['send-bytes']) }))
} finally {
  clearInterval(sampler)
  await admin.deleteTopics({ topics: [topic] })
  await admin.disconnect()
}
