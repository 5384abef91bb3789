import { describe, expect, it } from 'vitest'
import { defaultHedgePolicy, hedgeDelay, hedgesPay, hedgeTimerMs, isHedgeable, mayHedgeNow, type HedgeRequest, type HedgeVerdict } from '../../../gateway/src/resilience/hedge-policy.js'

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
  it('asks (and so spends) only when nothing else forbids the hedge, and passes on the answer', () => {
    let asked = 0
    const acquire = (verdict: HedgeVerdict) => () => { asked += 1; return verdict }
    expect(mayHedgeNow({ now: 10, deadline: 100, responseStarted: false }, acquire('sent'))).toBe('sent')
    expect(mayHedgeNow({ now: 10, deadline: 100, responseStarted: false }, acquire('denied'))).toBe('denied')
    expect(mayHedgeNow({ now: 10, deadline: 100, responseStarted: false }, acquire('paused'))).toBe('paused')
    expect(asked).toBe(3)
    expect(mayHedgeNow({ now: 100, deadline: 100, responseStarted: false }, acquire('sent'))).toBeUndefined() // the deadline passed
    expect(mayHedgeNow({ now: 10, deadline: 100, responseStarted: true }, acquire('sent'))).toBeUndefined() // an answer is coming
    expect(asked).toBe(3)
  })
})

describe('hedgesPay', () => {
  it.each([
    [{ known: 200, paid: 120 }, true], // one slow instance: the hedges cut its slow tries short
    [{ known: 200, paid: 40 }, true], // at the threshold
    [{ known: 200, paid: 39 }, false],
    [{ known: 200, paid: 4 }, false], // nothing slow: hedges lose, or win by a hair
    [{ known: 19, paid: 0 }, true] // too few hedges known to judge: hedge
  ] as const)('%j → %s', (latest, expected) => {
    expect(hedgesPay(latest, defaultHedgePolicy)).toBe(expected)
  })
})
