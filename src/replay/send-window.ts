/**
 * An ordered window of producer sends: at most `maxInFlight` groups are queued or being sent, and
 * each produce starts only once the one before it was acknowledged. kafkajs retries a failed
 * produce inside `send()` (rolling its idempotent sequence numbers back), so two overlapping sends
 * could land out of order when the first is retried; chaining keeps per-partition order and
 * acknowledgement order equal to file order. Memory stays bounded by maxInFlight × sendBytes.
 */
import type { Message, Producer } from 'kafkajs'

/** One producer send: messages plus the record and byte counts they carry. */
export interface SendGroup {
  messages: Message[]
  records: number
  bytes: number
}

/** The part of a kafkajs producer the window uses. */
export type SendingProducer = Pick<Producer, 'send'>

export class SendWindow {
  private readonly pending = new Set<Promise<void>>()
  /** The send every new one waits for: the newest one queued. */
  private tail: Promise<void> = Promise.resolve()
  /** The first send error, if any; later sends are not started once it is set. */
  failure: unknown = undefined

  /**
   * @param producer a connected kafkajs producer.
   * @param topic the topic every message goes to.
   * @param maxInFlight groups queued or being sent at once (>= 1); one produce runs at a time.
   * @param onAck called once per acknowledged send, in queueing order.
   */
  constructor(
    private readonly producer: SendingProducer,
    private readonly topic: string,
    private readonly maxInFlight: number,
    private readonly onAck: (group: SendGroup) => void,
  ) {}

  /**
   * Waits for a free slot, then queues `group`: it is sent with acks = all (-1) once every group
   * queued before it is acknowledged. Resolves once queued, not when acknowledged. Does nothing after
   * a failure, and a group queued behind a failed one is never sent. Never throws: a failed send is
   * kept in `failure`.
   */
  async send(group: SendGroup): Promise<void> {
    while (this.pending.size >= this.maxInFlight && this.failure === undefined) await Promise.race(this.pending)
    if (this.failure !== undefined) return
    const sent: Promise<void> = this.tail
      .then(async () => {
        if (this.failure !== undefined) return
        await this.producer.send({ topic: this.topic, acks: -1, messages: group.messages })
        this.onAck(group)
      })
      .catch((error: unknown) => {
        this.failure ??= error
      })
      .finally(() => this.pending.delete(sent))
    this.tail = sent
    this.pending.add(sent)
  }

  /** Resolves when every queued send is acknowledged, failed or skipped after a failure. Never throws. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.race(this.pending)
  }
}
