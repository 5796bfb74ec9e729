import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Pacer, pacedBatch, type PacerClock } from '../../../src/replay/pacer.ts'

function fakeClock(): PacerClock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms
    },
  }
  return clock
}

describe('Pacer', () => {
  it('never lets more than rate × seconds + one burst through, and keeps up with the rate', async () => {
    const clock = fakeClock()
    const pacer = new Pacer(5_000, clock)
    let sent = 0
    for (let i = 0; i < 200; i++) {
      await pacer.take(250)
      sent += 250
      assert.ok(sent <= (clock.t / 1_000) * 5_000 + pacer.capacity, `${sent} records by ${clock.t} ms`)
    }
    // 50,000 records at 5,000/s: 10 s minus the initial burst of 0.1 s.
    assert.ok(Math.abs(clock.t - 9_900) < 1, `took ${clock.t} ms`)
  })

  it('handles takes larger than the burst by borrowing, so the long-run rate still holds', async () => {
    const clock = fakeClock()
    const pacer = new Pacer(100, clock)
    for (let i = 0; i < 10; i++) await pacer.take(50)
    // The first take goes at once (borrowing 40); each later one waits 0.5 s: 450 records in 4.5 s.
    assert.ok(Math.abs(clock.t - 4_500) < 1, `took ${clock.t} ms`)
  })

  it('returns early without waiting the full time when the signal aborts', async () => {
    const pacer = new Pacer(1)
    await pacer.take(1)
    const controller = new AbortController()
    const started = performance.now()
    setTimeout(() => controller.abort(), 20)
    await pacer.take(1, controller.signal)
    assert.ok(performance.now() - started < 500)
  })

  it('rejects a rate that is not a positive number', () => {
    assert.throws(() => new Pacer(0), RangeError)
    assert.throws(() => new Pacer(Number.POSITIVE_INFINITY), RangeError)
  })
})

describe('pacedBatch', () => {
  it('shrinks messages to a tenth of a second of rate when the rate is low, else keeps batch', () => {
    assert.equal(pacedBatch(1_000, undefined), 1_000)
    assert.equal(pacedBatch(1_000, 60_000), 1_000)
    assert.equal(pacedBatch(1_000, 2_000), 200)
    assert.equal(pacedBatch(1_000, 5), 1)
  })
})
