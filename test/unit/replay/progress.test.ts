import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createProgressPrinter, formatProgress, formatSummary } from '../../../src/replay/progress.ts'

function sink(isTTY: boolean): { text: string; isTTY: boolean; write(s: string): void } {
  return {
    text: '',
    isTTY,
    write(s: string) {
      this.text += s
    },
  }
}

describe('formatProgress', () => {
  it('shows records of total with percent, rate, MB and ETA when the total is known', () => {
    assert.equal(
      formatProgress({ records: 1_200_000, total: 3_000_000, bytes: 132_400_000, messages: 1_200, elapsedMs: 4_000 }, 412_000),
      '1,200,000 / 3,000,000 records (40.0%)  412,000 rec/s  132.4 MB  ETA 6s',
    )
  })

  it('leaves out percent and ETA when the total is unknown, and ETA once complete', () => {
    assert.equal(formatProgress({ records: 5_000, total: undefined, bytes: 550_000, messages: 5, elapsedMs: 1_000 }, 5_000), '5,000 records  5,000 rec/s  0.6 MB')
    assert.equal(formatProgress({ records: 10, total: 10, bytes: 1_000, messages: 1, elapsedMs: 1_000 }, 10), '10 / 10 records (100.0%)  10 rec/s  0.0 MB')
    assert.equal(formatProgress({ records: 1, total: 100_000, bytes: 1, messages: 1, elapsedMs: 1_000 }, 1), '1 / 100,000 records (0.0%)  1 rec/s  0.0 MB  ETA 27h46m')
  })
})

describe('formatSummary', () => {
  it('states records, messages, MB, seconds and the average rate, and says when it was aborted', () => {
    assert.equal(formatSummary({ records: 3_000_000, messages: 3_000, bytes: 335_675_585, durationMs: 12_000, aborted: false }), 'sent 3,000,000 records in 3,000 messages (335.7 MB) in 12.0 s, 250,000 rec/s')
    assert.equal(formatSummary({ records: 100, messages: 1, bytes: 10_000, durationMs: 2_000, aborted: true }), 'aborted after sending 100 records in 1 messages (0.0 MB) in 2.0 s, 50 rec/s')
  })
})

describe('createProgressPrinter', () => {
  it('rewrites one line on a TTY about once a second and ends it when the total is reached', () => {
    const out = sink(true)
    let t = 0
    const print = createProgressPrinter({ stream: out, now: () => t, label: 'replay flights' })
    const at = (ms: number, records: number): void => {
      t = ms
      print({ records, total: 3_000, bytes: records * 100, messages: records / 1_000, elapsedMs: ms })
    }
    at(100, 1_000)
    at(600, 2_000) // throttled
    at(1_200, 2_000)
    at(1_300, 3_000) // complete: printed at once
    assert.equal(
      out.text,
      '\rreplay flights: 1,000 / 3,000 records (33.3%)  10,000 rec/s  0.1 MB  ETA 0s\x1b[K' +
        '\rreplay flights: 2,000 / 3,000 records (66.7%)  909 rec/s  0.2 MB  ETA 1s\x1b[K' +
        '\rreplay flights: 3,000 / 3,000 records (100.0%)  10,000 rec/s  0.3 MB\x1b[K\n',
    )
    print.finish({ records: 3_000, messages: 3, bytes: 300_000, durationMs: 1_500, aborted: false })
    assert.ok(out.text.endsWith('\x1b[K\nreplay flights: sent 3,000 records in 3 messages (0.3 MB) in 1.5 s, 2,000 rec/s\n'))
  })

  it('prints plain lines every 5 seconds when not a TTY, and the summary on its own line', () => {
    const out = sink(false)
    let t = 0
    const print = createProgressPrinter({ stream: out, now: () => t })
    for (let ms = 0; ms <= 12_000; ms += 500) {
      t = ms
      print({ records: ms, total: undefined, bytes: 0, messages: 1, elapsedMs: ms })
    }
    print.finish({ records: 12_000, messages: 12, bytes: 0, durationMs: 12_000, aborted: false })
    assert.deepEqual(out.text.split('\n'), [
      'replay: 0 records  0 rec/s  0.0 MB',
      'replay: 5,000 records  1,000 rec/s  0.0 MB',
      'replay: 10,000 records  1,000 rec/s  0.0 MB',
      'replay: sent 12,000 records in 12 messages (0.0 MB) in 12.0 s, 1,000 rec/s',
      '',
    ])
  })

  it('closes an open TTY line before the summary of an aborted replay', () => {
    const out = sink(true)
    const print = createProgressPrinter({ stream: out, now: () => 0 })
    print({ records: 5, total: 10, bytes: 0, messages: 1, elapsedMs: 10 })
    print.finish({ records: 5, messages: 1, bytes: 0, durationMs: 10, aborted: true })
    print.finish({ records: 5, messages: 1, bytes: 0, durationMs: 10, aborted: true })
    assert.equal(out.text.split('\n').length, 3)
    assert.match(out.text, /\x1b\[K\nreplay: aborted after sending 5 records/)
  })
})
