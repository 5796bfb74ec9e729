import assert from 'node:assert/strict'
import { MessageChannel } from 'node:worker_threads'
import { test } from 'node:test'
import { transferable } from '../../../src/transforms/pool.ts'

/** A message value as the Kafka client hands it over: a small view into a large fetch buffer. */
function viewOfFetchBuffer(): { fetch: Buffer; value: Buffer } {
  const fetch = Buffer.alloc(1024 * 1024, 0x20)
  fetch.write('[{"id":"a"},{"id":"b"}]', 4096)
  return { fetch, value: fetch.subarray(4096, 4096 + 23) }
}

test('a task value crosses to a worker as an ArrayBuffer of exactly its own bytes, not the fetch buffer', () => {
  const { value } = viewOfFetchBuffer()
  const { task, transferList } = transferable({ stream: 'flights', value })
  assert.equal(transferList.length, 1)
  assert.equal(transferList[0], task.value.buffer)
  assert.equal(task.value.buffer.byteLength, 23)
  assert.equal(task.value.byteOffset, 0)
  assert.equal(Buffer.from(task.value).toString(), '[{"id":"a"},{"id":"b"}]')
  assert.equal(task.stream, 'flights')
})

test('the transferred copy is detached once posted and the caller keeps its value for a retry', async () => {
  const { fetch, value } = viewOfFetchBuffer()
  const { task, transferList } = transferable({ value })
  const channel = new MessageChannel()
  const received = new Promise<{ value: Uint8Array }>((resolve) => channel.port2.once('message', resolve))
  channel.port1.postMessage(task, transferList)
  assert.equal(task.value.byteLength, 0, 'the sent copy is detached')
  assert.equal(transferList[0]!.byteLength, 0)
  const got = await received
  assert.equal(got.value.buffer.byteLength, 23, 'the receiver gets the message bytes only')
  assert.equal(Buffer.from(got.value).toString(), '[{"id":"a"},{"id":"b"}]')
  assert.equal(value.toString(), '[{"id":"a"},{"id":"b"}]', 'the original view is intact')
  assert.equal(fetch.byteLength, 1024 * 1024)
  channel.port1.close()
  channel.port2.close()
})
