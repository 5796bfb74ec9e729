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
      formatProgress({ records: 1_200_000, total: 3_000_000, bytes: 132_400_000, messages: 1_200, elapsedMs: 4_000 }, 412_000, 6_000),
      '1,200,000 / 3,000,000 records (40.0%)  412,000 rec/s  132.4 MB  ETA 6s',
    )
  })

  it('leaves out percent and ETA when the total is unknown, and ETA once complete', () => {
    assert.equal(formatProgress({ records: 5_000, total: undefined, bytes: 550_000, messages: 5, elapsedMs: 1_000 }, 5_000), '5,000 records  5,000 rec/s  0.6 MB')
    assert.equal(formatProgress({ records: 10, total: 10, bytes: 1_000, messages: 1, elapsedMs: 1_000 }, 10, 0), '10 / 10 records (100.0%)  10 rec/s  0.0 MB')
    assert.equal(formatProgress({ records: 1, total: 100_000, bytes: 1, messages: 1, elapsedMs: 1_000 }, 1, 99_999_000), '1 / 100,000 records (0.0%)  1 rec/s  0.0 MB  ETA 27h46m')
    assert.equal(formatProgress({ records: 1, total: 100_000, bytes: 1, messages: 1, elapsedMs: 1_000 }, 1, 185_000), '1 / 100,000 records (0.0%)  1 rec/s  0.0 MB  ETA 3m05s')
  })
})

describe('formatSummary', () => {
  it('states records, messages, MB, seconds and the average rate, and says when it was aborted', () => {
    assert.equal(formatSummary({ records: 3_000_000, messages: 3_000, bytes: 335_675_585, durationMs: 12_000, aborted: false }), 'sent 3,000,000 records in 3,000 messages (335.7 MB) in 12.0 s, 250,000 rec/s')
    assert.equal(formatSummary({ records: 100, messages: 1, bytes: 10_000, durationMs: 2_000, aborted: true }), 'aborted after sending 100 records in 1 messages (0.0 MB) in 2.0 s, 50 rec/s')
  })
})

describe('createProgressPrinter', () => {
  it('rewrites one line on a TTY about once a second, measuring from the first acknowledgement, and ends it at the total', () => {
    const out = sink(true)
    let t = 0
    const print = createProgressPrinter({ stream: out, now: () => t, label: 'replay flights' })
    const at = (ms: number, records: number): void => {
      t = ms
      print({ records, total: 10_000, bytes: records * 100, messages: records / 1_000, elapsedMs: ms })
    }
    at(1_500, 1_000) // first acknowledgement after set-up: starts the clock, prints nothing
    at(2_000, 2_000) // throttled
    at(2_500, 3_000) // 2,000 records in 1 s; 7,000 to go at 2,000/s
    at(3_000, 4_000) // throttled
    at(4_500, 8_000) // 5,000 in 2 s over the last interval; 7,000 in 3 s on average
    at(4_600, 10_000) // complete: printed at once
    assert.equal(
      out.text,
      '\rreplay flights: 3,000 / 10,000 records (30.0%)  2,000 rec/s  0.3 MB  ETA 4s\x1b[K' +
        '\rreplay flights: 8,000 / 10,000 records (80.0%)  2,500 rec/s  0.8 MB  ETA 1s\x1b[K' +
        '\rreplay flights: 10,000 / 10,000 records (100.0%)  20,000 rec/s  1.0 MB\x1b[K\n',
    )
    print.finish({ records: 10_000, messages: 10, bytes: 1_000_000, durationMs: 5_000, aborted: false })
    assert.ok(out.text.endsWith('\x1b[K\nreplay flights: sent 10,000 records in 10 messages (1.0 MB) in 5.0 s, 2,000 rec/s\n'))
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
      'replay: 5,000 records  1,000 rec/s  0.0 MB',
      'replay: 10,000 records  1,000 rec/s  0.0 MB',
      'replay: sent 12,000 records in 12 messages (0.0 MB) in 12.0 s, 1,000 rec/s',
      '',
    ])
  })

  it('closes an open TTY line before the summary of an aborted replay', () => {
    const out = sink(true)
    let t = 0
    const print = createProgressPrinter({ stream: out, now: () => t })
    print({ records: 1, total: 10, bytes: 0, messages: 1, elapsedMs: 10 })
    t = 2_000
    print({ records: 5, total: 10, bytes: 0, messages: 1, elapsedMs: 2_010 })
    print.finish({ records: 5, messages: 1, bytes: 0, durationMs: 10, aborted: true })
    print.finish({ records: 5, messages: 1, bytes: 0, durationMs: 10, aborted: true })
    assert.equal(out.text.split('\n').length, 3)
    assert.match(out.text, /\x1b\[K\nreplay: aborted after sending 5 records/)
  })
})
