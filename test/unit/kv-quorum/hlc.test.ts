import { describe, expect, it } from 'vitest'
import { compareTimestamps, HybridClock, receive, tick } from '../../../services/kv-quorum/src/core/hlc.js'

describe('hybrid logical clock', () => {
  it('follows the wall clock when it moves forward', () => {
    expect(tick({ t: 100, c: 5 }, 200)).toEqual({ t: 200, c: 0 })
  })

  it('counts when the wall clock stands still or goes back', () => {
    expect(tick({ t: 200, c: 0 }, 200)).toEqual({ t: 200, c: 1 })
    expect(tick({ t: 200, c: 1 }, 150)).toEqual({ t: 200, c: 2 })
  })

  it.each([
    { name: 'remote ahead', last: { t: 100, c: 3 }, remote: { t: 500, c: 7 }, now: 200, out: { t: 500, c: 8 } },
    { name: 'local ahead', last: { t: 600, c: 3 }, remote: { t: 500, c: 7 }, now: 200, out: { t: 600, c: 4 } },
    { name: 'same t', last: { t: 500, c: 3 }, remote: { t: 500, c: 7 }, now: 200, out: { t: 500, c: 8 } },
    { name: 'wall clock ahead of both', last: { t: 100, c: 3 }, remote: { t: 150, c: 7 }, now: 900, out: { t: 900, c: 0 } }
  ])('receive: $name', ({ last, remote, now, out }) => {
    expect(receive(last, remote, now)).toEqual(out)
  })

  it('stamps after anything it observed, however far behind its wall clock is', () => {
    let wall = 1_000
    const behind = new HybridClock(() => wall)
    const seen = { t: 9_000, c: 4 }
    behind.observe(seen)
    wall = 1_001
    const next = behind.now()
    expect(compareTimestamps(next, seen)).toBeGreaterThan(0)
  })

  it('never repeats or goes backwards', () => {
    const walls = [5, 5, 4, 9, 9, 1, 20]
    let i = 0
    const clock = new HybridClock(() => walls[i++] ?? 20)
    const stamps = walls.map(() => clock.now())
    for (let k = 1; k < stamps.length; k++) expect(compareTimestamps(stamps[k]!, stamps[k - 1]!)).toBeGreaterThan(0)
  })
})
