import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ProducerRecord, RecordMetadata } from 'kafkajs'
import { SendWindow, type SendGroup, type SendingProducer } from '../../../src/replay/send-window.ts'

/** A producer stub: send `i` settles after `delays[i]` ms (a retried produce takes longer), or rejects when `fails` has i. */
function stubProducer(delays: number[], fails: Set<number> = new Set()) {
  const log: string[] = []
  let active = 0
  let maxActive = 0
  let calls = 0
  const producer: SendingProducer = {
    send: async (record: ProducerRecord): Promise<RecordMetadata[]> => {
      const i = calls++
      const first = String(record.messages[0]!.value)
      active++
      maxActive = Math.max(maxActive, active)
      log.push(`start ${first}`)
      await new Promise((resolve) => setTimeout(resolve, delays[i] ?? 0))
      active--
      if (fails.has(i)) throw new Error(`produce ${first} failed`)
      log.push(`written ${first}`)
      return []
    },
  }
  return { producer, log, maxActive: () => maxActive }
}

const group = (id: number): SendGroup => ({ messages: [{ value: String(id), partition: id % 2 }], records: 1, bytes: 1 })

describe('SendWindow', () => {
  it('writes and acknowledges groups in queueing order when an early produce is slow (retried)', async () => {
    const stub = stubProducer([60, 0, 0, 0, 0, 0])
    const acked: number[] = []
    const window = new SendWindow(stub.producer, 't', 4, (g) => acked.push(Number(g.messages[0]!.value)))
    for (let id = 0; id < 6; id++) await window.send(group(id))
    await window.drain()
    assert.deepEqual(acked, [0, 1, 2, 3, 4, 5])
    assert.deepEqual(stub.log.filter((line) => line.startsWith('written')), ['written 0', 'written 1', 'written 2', 'written 3', 'written 4', 'written 5'])
    assert.equal(stub.maxActive(), 1)
    assert.equal(window.failure, undefined)
  })

  it('bounds queued groups by maxInFlight: send() waits for a slot', async () => {
    const stub = stubProducer([30, 30, 30])
    const window = new SendWindow(stub.producer, 't', 2, () => undefined)
    await window.send(group(0))
    await window.send(group(1))
    let third = false
    const queued = window.send(group(2)).then(() => (third = true))
    await new Promise((resolve) => setTimeout(resolve, 10))
    assert.equal(third, false, 'the third group waits while two are queued')
    await queued
    await window.drain()
    assert.equal(stub.log.filter((line) => line.startsWith('written')).length, 3)
  })

  it('keeps the first failure and never sends the groups queued behind it', async () => {
    const stub = stubProducer([20, 0, 0], new Set([0]))
    const acked: number[] = []
    const window = new SendWindow(stub.producer, 't', 4, (g) => acked.push(Number(g.messages[0]!.value)))
    for (let id = 0; id < 3; id++) await window.send(group(id))
    await window.drain()
    assert.match(String(window.failure), /produce 0 failed/)
    assert.deepEqual(acked, [])
    assert.deepEqual(stub.log, ['start 0'])
    await window.send(group(3))
    await window.drain()
    assert.deepEqual(stub.log, ['start 0'], 'nothing is sent after a failure')
  })
})
