/**
 * A bounded window of producer sends awaiting acknowledgement: at most `maxInFlight` sends are
 * pending; `send` waits for a free slot, so memory stays bounded by maxInFlight × sendBytes.
 */
import type { Message, Producer } from 'kafkajs'

/** One producer send: messages plus the record and byte counts they carry. */
export interface SendGroup {
  messages: Message[]
  records: number
  bytes: number
}

export class SendWindow {
  private readonly pending = new Set<Promise<void>>()
  /** The first send error, if any; later sends are not started once it is set. */
  failure: unknown = undefined

  /**
   * @param producer a connected kafkajs producer.
   * @param topic the topic every message goes to.
   * @param maxInFlight sends pending at once (>= 1).
   * @param onAck called once per acknowledged send, in acknowledgement order.
   */
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly maxInFlight: number,
    private readonly onAck: (group: SendGroup) => void,
  ) {}

  /**
   * Waits for a free slot, then starts sending `group` with acks = all (-1). Resolves once the send
   * has started, not when it is acknowledged. Does nothing after a failure. Never throws: a failed
   * send is kept in `failure`.
   */
  async send(group: SendGroup): Promise<void> {
    while (this.pending.size >= this.maxInFlight && this.failure === undefined) await Promise.race(this.pending)
    if (this.failure !== undefined) return
    const sent: Promise<void> = this.producer
      .send({ topic: this.topic, acks: -1, messages: group.messages })
      .then(
        () => this.onAck(group),
        (error: unknown) => {
          this.failure ??= error
        },
      )
      .finally(() => this.pending.delete(sent))
    this.pending.add(sent)
  }

  /** Resolves when every started send is acknowledged or failed. Never throws. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.race(this.pending)
  }
}
