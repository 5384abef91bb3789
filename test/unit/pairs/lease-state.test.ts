import { describe, expect, it } from 'vitest'
import { checkLeaseTimings, fastTakeoverAllowed, holdsLease, initialLeaseState, nextLeaseAction, reduceLease, type LeaseEvent, type LeaseState } from '../../../shared/src/lease/state.js'

const t = { ttlMs: 500, renewMs: 100, retryMs: 50, marginMs: 50 }
const replay = (events: LeaseEvent[], from: LeaseState = initialLeaseState): LeaseState => events.reduce((s, e) => reduceLease(s, e, t), from)

describe('lease state', () => {
  it('holds from the moment the request was sent until ttl - margin, on the monotonic clock', () => {
    const s = replay([{ type: 'granted', epoch: 3, owner: 'a', sentAt: 1_000 }])
    expect(s).toEqual({ held: true, epoch: 3, holder: 'a', validUntil: 1_450 })
    expect(holdsLease(s, 1_449)).toBe(true)
    expect(holdsLease(s, 1_450)).toBe(false)
  })

  it('a renewal extends from its own send time; a failed one learns nothing and the lease lapses by the clock', () => {
    const s = replay([{ type: 'granted', epoch: 1, owner: 'a', sentAt: 0 }, { type: 'granted', epoch: 1, owner: 'a', sentAt: 100 }, { type: 'failed' }])
    expect(s.validUntil).toBe(550)
    expect(holdsLease(s, 549)).toBe(true)
    expect(holdsLease(s, 2_000)).toBe(false) // e.g. woke from SIGSTOP: no I/O needed to know
  })

  it('refused: not held, remembers the holder and the highest epoch seen', () => {
    const s = replay([{ type: 'granted', epoch: 4, owner: 'a', sentAt: 0 }, { type: 'refused', epoch: 5, holder: 'b' }])
    expect(s).toEqual({ held: false, epoch: 5, holder: 'b', validUntil: 0 })
    expect(replay([{ type: 'refused', epoch: 2, holder: 'b' }], s).epoch).toBe(5)
  })

  it('dropped (stale at the downstream, or shutdown) stops holding at once', () => {
    const s = replay([{ type: 'granted', epoch: 1, owner: 'a', sentAt: 0 }, { type: 'dropped' }])
    expect(holdsLease(s, 1)).toBe(false)
  })

  it('fenced (the downstream refused the epoch) stops holding and forgets the holder, so the epoch is never resumed', () => {
    const s = replay([{ type: 'granted', epoch: 4, owner: 'a', sentAt: 0 }, { type: 'fenced' }])
    expect(s).toEqual({ held: false, epoch: 4, holder: '', validUntil: 0 })
    // a lapse (dropped) keeps the holder: that epoch may be resumed if nobody took a newer one
    expect(replay([{ type: 'granted', epoch: 4, owner: 'a', sentAt: 0 }, { type: 'dropped' }]).holder).toBe('a')
  })

  it('no fast takeover within one TTL of our own reconnection (every connection id changed in a failover)', () => {
    expect(fastTakeoverAllowed(1_000, undefined, t)).toBe(true)
    expect(fastTakeoverAllowed(1_000, 900, t)).toBe(false)
    expect(fastTakeoverAllowed(1_400, 900, t)).toBe(true)
  })

  it('next action: a holder renews every renewMs; a contender retries every retryMs; a lapsed holder re-acquires at once', () => {
    const held = replay([{ type: 'granted', epoch: 1, owner: 'a', sentAt: 0 }])
    expect(nextLeaseAction(held, 10, t)).toEqual({ action: 'renew', delayMs: 100 })
    expect(nextLeaseAction(held, 400, t)).toEqual({ action: 'renew', delayMs: 50 })
    expect(nextLeaseAction(held, 451, t)).toEqual({ action: 'acquire', delayMs: 0 })
    expect(nextLeaseAction(initialLeaseState, 0, t)).toEqual({ action: 'acquire', delayMs: 50 })
  })

  it.each([
    [{ ...t }, 0],
    [{ ...t, renewMs: 300 }, 1],
    [{ ...t, marginMs: 400 }, 1],
    [{ ...t, ttlMs: 0, renewMs: 0, marginMs: 0 }, 2],
    [{ ...t, retryMs: 0 }, 1]
  ])('checks timings %o', (timings, problems) => {
    expect(checkLeaseTimings(timings)).toHaveLength(problems)
  })
})
