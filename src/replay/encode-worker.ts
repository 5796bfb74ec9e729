/**
 * Worker-thread side of message encoding: reads the file (readers.ts) and encodes JSON_ARRAY
 * message values (encode.ts) off the main thread, which is left to kafkajs. Flow control is by
 * credit: the worker posts one group of messages per credit received, so at most `credit` groups
 * are buffered between the threads.
 */
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { FlowhouseError } from '../errors.ts'
import { encodeMessages, type EncodedMessage } from './encode.ts'
import type { ReaderOptions } from './options.ts'
import { openReader } from './readers.ts'

/** What to encode: a file, its row selection, and records per message. */
export interface EncodeJob extends ReaderOptions {
  file: string
  batch: number
}

/** Messages from the worker to the main thread. */
export type FromWorker =
  | { type: 'opened'; totalRows: number | undefined }
  | { type: 'messages'; messages: EncodedMessage[] }
  | { type: 'end' }
  | { type: 'error'; error: SerializedError }

/** Messages from the main thread to the worker: permission to post `n` more groups. */
export interface ToWorker {
  type: 'credit'
  n: number
}

/** An error crossing the thread boundary; a FlowhouseError keeps its code and context. */
export interface SerializedError {
  name: string
  message: string
  code?: string
  context?: Record<string, unknown>
}

export const encodeWorkerKind = 'flowhouse-replay-encode'

/** Runs one job, posting to `port` as credit allows. Never throws: errors are posted. */
export async function runEncodeJob(job: EncodeJob, port: MessagePort): Promise<void> {
  let credit = 0
  let wake: (() => void) | undefined
  port.on('message', (message: ToWorker) => {
    credit += message.n
    wake?.()
  })
  try {
    const reader = await openReader(job.file, job)
    port.postMessage({ type: 'opened', totalRows: reader.totalRows } satisfies FromWorker)
    for await (const messages of encodeMessages(reader.chunks(), job.batch)) {
      while (credit === 0) await new Promise<void>((resolve) => (wake = resolve))
      credit--
      port.postMessage({ type: 'messages', messages } satisfies FromWorker, messages.map((m) => m.value.buffer as ArrayBuffer))
    }
    port.postMessage({ type: 'end' } satisfies FromWorker)
  } catch (error) {
    port.postMessage({ type: 'error', error: serializeError(error) } satisfies FromWorker)
  } finally {
    port.removeAllListeners('message')
  }
}

function serializeError(error: unknown): SerializedError {
  if (error instanceof FlowhouseError) return { name: error.name, message: error.message, code: error.code, context: { ...error.context } }
  if (error instanceof Error) return { name: error.name, message: error.message }
  return { name: 'Error', message: String(error) }
}

if (!isMainThread && parentPort !== null && (workerData as { kind?: string } | undefined)?.kind === encodeWorkerKind) {
  await runEncodeJob((workerData as { job: EncodeJob }).job, parentPort)
}
