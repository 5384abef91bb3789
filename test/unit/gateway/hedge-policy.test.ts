import { describe, expect, it } from 'vitest'
import { defaultHedgePolicy, hedgeDelay, hedgeTimerMs, isHedgeable, mayHedgeNow, type HedgeRequest } from '../../../gateway/src/resilience/hedge-policy.js'

const get: HedgeRequest = { enabled: true, method: 'GET', role: undefined, bodyReplayable: true }

describe('isHedgeable', () => {
  it.each([
    [get, true],
    [{ ...get, method: 'HEAD' }, true],
    [{ ...get, enabled: false }, false], // the service did not opt in, or GW_HEDGE=off
    [{ ...get, method: 'POST' }, false], // never a non-idempotent request
    [{ ...get, method: 'PATCH' }, false],
    [{ ...get, method: 'PUT' }, false], // idempotent, but a write: two racing writes are not a read
    [{ ...get, method: 'DELETE' }, false],
    [{ ...get, role: 'leader' }, false], // one leader: there is no second instance to ask
    [{ ...get, bodyReplayable: false }, false] // a streamed body cannot be sent twice
  ] as const)('%j → %s', (request, expected) => {
    expect(isHedgeable(request)).toBe(expected)
  })
})

describe('hedgeDelay', () => {
  it.each([
    [{ count: 100, percentileMs: 12.5 }, 12.5], // the service's measured p95
    [{ count: 19, percentileMs: 12.5 }, undefined], // too few samples to trust
    [{ count: 100, percentileMs: 0 }, undefined],
    [{ count: 100, percentileMs: 0.2 }, 1] // never sooner than the floor
  ] as const)('%j → %s', (window, expected) => {
    expect(hedgeDelay(window, defaultHedgePolicy)).toBe(expected)
  })
})

describe('hedgeTimerMs', () => {
  it('waits the delay when the hedge lands before the deadline, and never arms one at or past it', () => {
    expect(hedgeTimerMs(1_000, 20, 2_000)).toBe(20)
    expect(hedgeTimerMs(1_000, 1_000, 2_000)).toBeUndefined()
    expect(hedgeTimerMs(1_990, 20, 2_000)).toBeUndefined()
  })
})

describe('mayHedgeNow', () => {
  it('spends the budget only when nothing else forbids the hedge', () => {
    let asked = 0
    const budget = (grant: boolean) => () => { asked += 1; return grant }
    expect(mayHedgeNow({ now: 10, deadline: 100, responseStarted: false }, budget(true))).toBe(true)
    expect(mayHedgeNow({ now: 10, deadline: 100, responseStarted: false }, budget(false))).toBe(false)
    expect(asked).toBe(2)
    expect(mayHedgeNow({ now: 100, deadline: 100, responseStarted: false }, budget(true))).toBe(false) // the deadline passed
    expect(mayHedgeNow({ now: 10, deadline: 100, responseStarted: true }, budget(true))).toBe(false) // an answer is coming
    expect(asked).toBe(2)
  })
})
