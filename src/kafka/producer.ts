/**
 * The daemon's producer: ingest API records, transform outputs bound for other streams, and
 * dead-letter entries. `acks: -1`; a send resolves only once the broker has the messages.
 */
import kafkajs, { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs'

// CommonJS export, not visible as a named ESM import.
const { Partitioners } = kafkajs

export class RecordProducer {
  private readonly producer: Producer
  private connected: Promise<void> | undefined

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 5, createPartitioner: Partitioners.DefaultPartitioner })
  }

  connect(): Promise<void> {
    this.connected ??= this.producer.connect()
    return this.connected
  }

  /**
   * Sends records as JSON_ARRAY messages of at most `perMessage` records each.
   * @param records each record already serialised as JSON text.
   * @throws kafkajs errors once its retries are exhausted.
   */
  async sendRecords(topic: string, records: string[], perMessage: number): Promise<void> {
    if (records.length === 0) return
    const messages: Message[] = []
    for (let i = 0; i < records.length; i += perMessage) {
      messages.push({ value: `[${records.slice(i, i + perMessage).join(',')}]` })
    }
    await this.send(topic, messages)
  }

  /** Sends prepared messages; resolves when every one is acknowledged by all in-sync replicas. */
  async send(topic: string, messages: Message[]): Promise<void> {
    if (messages.length === 0) return
    await this.connect()
    await this.producer.send({ topic, messages, acks: -1, compression: CompressionTypes.None })
  }

  async close(): Promise<void> {
    if (!this.connected) return
    this.connected = undefined
    await this.producer.disconnect()
  }
}
