import { describe, expect, it } from 'vitest'
import { HealthState } from '../../../gateway/src/resilience/health-state.js'
import { OutlierDetector } from '../../../gateway/src/resilience/outlier-detector.js'
import { RetryBudget } from '../../../gateway/src/resilience/retry-budget.js'
import { isIdempotent, shouldRetry, type TryOutcome } from '../../../gateway/src/resilience/retry-policy.js'

describe('outlier detection', () => {
  const policy = { consecutive5xx: 3, baseEjectionMs: 1_000, maxEjectionMs: 8_000 }

  it('ejects at once on a refused connection and re-admits after the ejection time', () => {
    const d = new OutlierDetector(policy)
    expect(d.onFailure('refused', 0)).toBe(true)
    expect(d.eject(0)).toBe(1_000)
    expect(d.isEjected(999)).toBe(true)
    expect(d.isEjected(1_000)).toBe(false)
  })

  it('ejects after N consecutive 5xx, and a success resets the count', () => {
    const d = new OutlierDetector(policy)
    expect(d.onFailure('status5xx', 0)).toBe(false)
    expect(d.onFailure('status5xx', 0)).toBe(false)
    d.onSuccess(0)
    expect(d.onFailure('status5xx', 0)).toBe(false)
    expect(d.onFailure('status5xx', 0)).toBe(false)
    expect(d.onFailure('status5xx', 0)).toBe(true)
  })

  it('doubles the ejection time on every repeat, up to the cap', () => {
    const d = new OutlierDetector(policy)
    const times = [0, 2_000, 5_000, 10_000, 20_000].map((t) => d.eject(t))
    expect(times).toEqual([1_000, 2_000, 4_000, 8_000, 8_000])
  })

  it('forgives the multiplier after a quiet spell', () => {
    const d = new OutlierDetector(policy)
    d.eject(0)
    d.eject(2_000)
    d.onSuccess(20_000)
    expect(d.eject(20_001)).toBe(1_000)
  })

  it('does not stack failures while ejected, and readmit lifts an ejection', () => {
    const d = new OutlierDetector(policy)
    d.eject(0)
    expect(d.onFailure('reset', 10)).toBe(false)
    d.readmit()
    expect(d.isEjected(10)).toBe(false)
  })
})

describe('active health with rise/fall', () => {
  it('needs `fall` failures to go down and `rise` passes to come back', () => {
    const h = new HealthState({ rise: 2, fall: 3 })
    expect(h.observe(false)).toBeUndefined()
    expect(h.observe(false)).toBeUndefined()
    expect(h.observe(false)).toBe('unhealthy')
    expect(h.healthy).toBe(false)
    expect(h.observe(true)).toBeUndefined()
    expect(h.observe(false)).toBeUndefined()
    expect(h.observe(true)).toBeUndefined()
    expect(h.observe(true)).toBe('healthy')
  })

  it('a single lost probe changes nothing', () => {
    const h = new HealthState({ rise: 2, fall: 2 })
    h.observe(false)
    h.observe(true)
    h.observe(false)
    expect(h.healthy).toBe(true)
  })
})

describe('retry rules', () => {
  const base: TryOutcome = { method: 'GET', failure: 'reset', responseStarted: false, bodyReplayable: true, retryNonIdempotent: false, attempt: 1, maxAttempts: 2 }
  it.each([
    [{}, true],
    [{ method: 'POST' }, false],
    [{ method: 'POST', failure: 'refused' }, true],
    [{ method: 'POST', retryNonIdempotent: true }, true],
    [{ responseStarted: true }, false],
    [{ bodyReplayable: false }, false],
    [{ attempt: 2 }, false],
    [{ failure: 'client-abort' }, false],
    [{ failure: 'status5xx' }, false],
    [{ method: 'PUT', failure: 'timeout' }, true],
    [{ method: 'PATCH', failure: 'timeout' }, false]
  ] as Array<[Partial<TryOutcome>, boolean]>)('%j → %s', (change, expected) => {
    expect(shouldRetry({ ...base, ...change })).toBe(expected)
  })

  it('knows the idempotent methods', () => {
    expect(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'].every(isIdempotent)).toBe(true)
    expect(['POST', 'PATCH'].some(isIdempotent)).toBe(false)
  })
})

describe('retry budget', () => {
  it('allows the reserve when quiet, then a fraction of recent requests', () => {
    const b = new RetryBudget({ ratio: 0.2, minPerSecond: 1, windowMs: 2_000 })
    expect(b.tryAcquireRetry(0)).toBe(true)
    expect(b.tryAcquireRetry(0)).toBe(true)
    expect(b.tryAcquireRetry(0)).toBe(false) // reserve: 1/s over 2 s
    for (let i = 0; i < 10; i++) b.requestStarted(0)
    expect(b.tryAcquireRetry(0)).toBe(true) // 2 + 0.2 × 10 = 4
    expect(b.tryAcquireRetry(0)).toBe(true)
    expect(b.tryAcquireRetry(0)).toBe(false)
  })

  it('forgets requests and retries older than the window', () => {
    const b = new RetryBudget({ ratio: 0.5, minPerSecond: 0, windowMs: 1_000 })
    for (let i = 0; i < 4; i++) b.requestStarted(0)
    expect(b.tryAcquireRetry(0)).toBe(true)
    expect(b.tryAcquireRetry(0)).toBe(true)
    expect(b.tryAcquireRetry(0)).toBe(false)
    expect(b.tryAcquireRetry(5_000)).toBe(false) // the requests that paid for them are gone
    for (let i = 0; i < 2; i++) b.requestStarted(5_000)
    expect(b.tryAcquireRetry(5_000)).toBe(true)
  })

  it('absorbs the burst of retries one dead instance causes under load', () => {
    const b = new RetryBudget({ ratio: 0.2, minPerSecond: 10, windowMs: 10_000 })
    for (let i = 0; i < 50; i++) b.requestStarted(0)
    const granted = Array.from({ length: 40 }, () => b.tryAcquireRetry(1)).filter(Boolean).length
    expect(granted).toBe(40)
  })
})
