/**
 * The daemon's producer: ingest API records, transform outputs bound for other streams, and
 * dead-letter entries. `acks: -1`; a send resolves only once the broker has the messages.
 */
import kafkajs, { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs'

// CommonJS export, not visible as a named ESM import.
const { Partitioners } = kafkajs

/**
 * Most messages in one kafkajs `send`. kafkajs (2.2.4, src/producer/groupMessagesPerPartition.js)
 * sorts a send's messages into partitions by copying the partition's whole list for every
 * message, so a send costs the square of its message count (the linear rewrite, kafkajs pull
 * request #1576, was never merged): 100,000 dead-letter entries (one message each) in sends of a
 * megabyte took the main thread 30 s; in sends of 1,000 the copying is about a millisecond each.
 */
export const MESSAGES_PER_SEND = 1_000

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

  /**
   * Sends prepared messages, in order, in producer requests of at most MESSAGES_PER_SEND
   * messages each, one after the other; resolves when every one is acknowledged by all in-sync
   * replicas. A failed request rejects and nothing after it is sent.
   * @throws kafkajs errors once its retries are exhausted.
   */
  async send(topic: string, messages: Message[]): Promise<void> {
    if (messages.length === 0) return
    await this.connect()
    for (let i = 0; i < messages.length; i += MESSAGES_PER_SEND) {
      await this.producer.send({ topic, messages: messages.slice(i, i + MESSAGES_PER_SEND), acks: -1, compression: CompressionTypes.None })
    }
  }

  async close(): Promise<void> {
    if (!this.connected) return
    this.connected = undefined
    await this.producer.disconnect()
  }
}
