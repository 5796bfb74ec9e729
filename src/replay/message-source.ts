/**
 * Encoded JSON_ARRAY messages of a file, produced in a worker thread (default) or in this thread.
 * The main thread then only runs kafkajs, which roughly doubles replay throughput.
 */
import { Worker } from 'node:worker_threads'
import { ErrorCodes, FlowhouseError, type ErrorCode } from '../errors.ts'
import { encodeMessages, type EncodedMessage } from './encode.ts'
import { encodeWorkerKind, type EncodeJob, type FromWorker, type SerializedError, type ToWorker } from './encode-worker.ts'
import { openReader } from './readers.ts'

/** Groups of encoded messages, in file order. */
export interface MessageSource {
  /** Records the selection yields when known (see `RecordReader.totalRows`). */
  totalRows: number | undefined
  groups: AsyncGenerator<EncodedMessage[]>
  /** Stops reading and frees the worker; idempotent. */
  close(): Promise<void>
}

/** Groups buffered between the worker and the producer (each about one reader chunk, ~1 MB for flights). */
const CREDIT = 4
/** A larger young generation than V8's worker default: the reader allocates millions of short-lived records, and fewer scavenges cut the worker's CPU by about a fifth. */
const WORKER_YOUNG_GENERATION_MB = 64
const workerEntry = new URL('./encode-worker.mjs', import.meta.url)

/**
 * Opens `job.file` and starts encoding. With `inWorker` the reading and JSON encoding run in a
 * worker thread with at most 4 groups buffered; otherwise in this thread.
 * @throws the errors of `openReader` (BAD_REQUEST, NOT_FOUND, DECODE_FAILED) before the first
 *   group; errors while reading surface from `groups`.
 */
export async function openMessageSource(job: EncodeJob, inWorker: boolean): Promise<MessageSource> {
  if (!inWorker) {
    const reader = await openReader(job.file, job)
    const groups = encodeMessages(reader.chunks(), job.batch)
    return { totalRows: reader.totalRows, groups, close: async () => void (await groups.return(undefined)) }
  }
  const worker = new Worker(workerEntry, { workerData: { kind: encodeWorkerKind, job }, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } })
  const inbox = new Inbox(worker)
  const first = await inbox.next()
  if (first.type !== 'opened') {
    await worker.terminate()
    throw first.type === 'error' ? deserializeError(first.error) : new Error(`replay worker: unexpected ${first.type}`)
  }
  worker.postMessage({ type: 'credit', n: CREDIT } satisfies ToWorker)
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await worker.terminate()
  }
  async function* groups(): AsyncGenerator<EncodedMessage[]> {
    try {
      for (;;) {
        const message = await inbox.next()
        if (message.type === 'end') return
        if (message.type === 'error') throw deserializeError(message.error)
        if (message.type !== 'messages') continue
        worker.postMessage({ type: 'credit', n: 1 } satisfies ToWorker)
        yield message.messages
      }
    } finally {
      await close()
    }
  }
  return { totalRows: first.totalRows, groups: groups(), close }
}

/** Messages from a worker as a pull queue; a crash or early exit becomes an `error` message. */
class Inbox {
  private readonly queue: FromWorker[] = []
  private waiting: ((message: FromWorker) => void) | undefined

  constructor(worker: Worker) {
    worker.on('message', (message: FromWorker) => this.put(message))
    worker.on('error', (error: Error) => this.put({ type: 'error', error: { name: error.name, message: `replay worker crashed: ${error.message}` } }))
    worker.on('exit', (code) => this.put({ type: 'error', error: { name: 'Error', message: `replay worker exited with code ${code} before the end of the file` } }))
  }

  next(): Promise<FromWorker> {
    const message = this.queue.shift()
    if (message !== undefined) return Promise.resolve(message)
    return new Promise((resolve) => (this.waiting = resolve))
  }

  private put(message: FromWorker): void {
    const waiting = this.waiting
    this.waiting = undefined
    if (waiting !== undefined) waiting(message)
    else this.queue.push(message)
  }
}

function deserializeError(error: SerializedError): Error {
  if (error.code !== undefined && (ErrorCodes as readonly string[]).includes(error.code)) {
    return new FlowhouseError(error.code as ErrorCode, error.message, { context: error.context ?? {} })
  }
  const out = new Error(error.message)
  out.name = error.name
  return out
}
