import { describe, expect, it } from 'vitest'
import { HealthState } from '../../../gateway/src/resilience/health-state.js'
import { OutlierDetector, type OutlierPolicy } from '../../../gateway/src/resilience/outlier-detector.js'
import { classifyFailure, countsAgainstInstance, isFailureStatus, type TryFailure } from '../../../gateway/src/proxy/failure.js'
import { RetryBudget } from '../../../gateway/src/resilience/retry-budget.js'
import { isIdempotent, may503BeRetried, shouldRetry, spendsAttempt, type TryOutcome } from '../../../gateway/src/resilience/retry-policy.js'

describe('outlier detection', () => {
  const policy: OutlierPolicy = { consecutive5xx: 3, consecutiveLocalOrigin: 3, failureRate: 0.85, failureRateMinRequests: 20, baseEjectionMs: 1_000, maxEjectionMs: 8_000 }

  it.each(['refused', 'reset', 'timeout'] as const)('one %s does not eject; N in a row do', (kind) => {
    const d = new OutlierDetector(policy)
    expect(d.onFailure(kind, 0)).toBe(false)
    expect(d.onFailure(kind, 0)).toBe(false)
    expect(d.onFailure(kind, 0)).toBe(true)
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

  it('counts errors of local origin apart from 5xx answers (an answer proves the connection works)', () => {
    const d = new OutlierDetector(policy)
    expect(d.onFailure('timeout', 0)).toBe(false)
    expect(d.onFailure('timeout', 0)).toBe(false)
    expect(d.onFailure('status5xx', 0)).toBe(false) // resets the local-origin run
    expect(d.onFailure('timeout', 0)).toBe(false)
    expect(d.onFailure('timeout', 0)).toBe(false) // 2 of local origin in a row: not 3
    expect(d.onFailure('status5xx', 0)).toBe(false)
    expect(d.onFailure('status5xx', 0)).toBe(true) // the 5xx run went on through the timeouts
  })

  it('ejects on the failure rate over 10 s once enough tries were seen, whatever the runs', () => {
    const d = new OutlierDetector(policy)
    // 9 failures in 10, never 3 in a row of one kind: only the rate can catch it
    let ejected = false
    for (let i = 0; i < 30 && !ejected; i++) {
      if (i % 10 === 0) d.onSuccess(i * 10)
      else ejected = d.onFailure(i % 2 === 0 ? 'reset' : 'status5xx', i * 10)
    }
    expect(ejected).toBe(true)
  })

  it('forgets tries older than the window, and does not judge the rate on too few', () => {
    const d = new OutlierDetector({ ...policy, consecutive5xx: 1_000 })
    for (let i = 0; i < 19; i++) expect(d.onFailure('status5xx', 0)).toBe(false) // 19 < 20 tries
    for (let i = 0; i < 40; i++) d.onSuccess(11_000) // the failures have left the window
    expect(d.onFailure('status5xx', 11_000)).toBe(false)
  })

  it('a rate of 0 turns the rate rule off', () => {
    const d = new OutlierDetector({ ...policy, consecutive5xx: 1_000, failureRate: 0 })
    expect(Array.from({ length: 100 }, () => d.onFailure('status5xx', 0)).some(Boolean)).toBe(false)
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

  it('does not stack failures while ejected, starts afresh after, and readmit lifts an ejection', () => {
    const d = new OutlierDetector(policy)
    d.onFailure('reset', 0)
    d.onFailure('reset', 0)
    d.eject(0)
    expect(d.onFailure('reset', 10)).toBe(false)
    d.readmit()
    expect(d.isEjected(10)).toBe(false)
    expect(d.onFailure('reset', 20)).toBe(false)
    expect(d.onFailure('reset', 20)).toBe(false)
    expect(d.onFailure('reset', 20)).toBe(true)
  })
})

describe('failure origin', () => {
  const upstream = { clientGone: false, bodyOverLimit: false, answerStarted: false, bodyUnsent: false }
  it.each([
    [{ code: 'ECONNREFUSED' }, {}, 'refused'],
    [{ code: 'UND_ERR_CONNECT_TIMEOUT' }, {}, 'refused'],
    [{ code: 'ECONNRESET' }, {}, 'reset'],
    [{ code: 'UND_ERR_SOCKET' }, {}, 'reset'],
    [{ code: 'EPIPE' }, {}, 'reset'],
    [{ code: 'UND_ERR_HEADERS_TIMEOUT' }, {}, 'timeout'],
    [{ code: 'UND_ERR_BODY_TIMEOUT' }, {}, 'timeout'],
    [{ code: 'UND_ERR_NOT_SUPPORTED' }, {}, 'unforwardable'],
    [{ code: 'UND_ERR_INVALID_ARG' }, {}, 'unforwardable'],
    [{ code: 'UND_ERR_ABORTED' }, { clientGone: true }, 'client-abort'],
    [{ code: 'ECONNRESET' }, { clientGone: true }, 'client-abort'],
    [{ code: 'HTTP_ERR_PAYLOAD_TOO_LARGE' }, { bodyOverLimit: true }, 'body-too-large'],
    [{ code: 'EPIPE' }, { answerStarted: true, bodyUnsent: true }, 'early-answer'],
    [{ code: 'ECONNRESET' }, { answerStarted: true, bodyUnsent: false }, 'reset'],
    [{ code: 'EPIPE' }, { answerStarted: false, bodyUnsent: true }, 'reset']
  ] as Array<[{ code: string }, Partial<typeof upstream>, TryFailure]>)('%j with %j → %s', (err, ctx, expected) => {
    expect(classifyFailure(Object.assign(new Error('x'), err), { ...upstream, ...ctx })).toBe(expected)
  })

  it('only the upstream\'s failures count against an instance', () => {
    expect((['refused', 'reset', 'timeout', 'status5xx'] as const).every(countsAgainstInstance)).toBe(true)
    expect((['client-abort', 'body-too-large', 'unforwardable', 'early-answer'] as const).some(countsAgainstInstance)).toBe(false)
  })

  it('every 5xx is a failure but 501 and 505, which describe the request', () => {
    expect([500, 502, 503, 504, 599].every(isFailureStatus)).toBe(true)
    expect([200, 404, 413, 499, 501, 505].some(isFailureStatus)).toBe(false)
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
    [{ method: 'PATCH', failure: 'timeout' }, false],
    [{ failure: 'status503' }, true],
    [{ method: 'PUT', failure: 'status503' }, true],
    [{ method: 'POST', failure: 'status503' }, false],
    [{ method: 'POST', failure: 'status503', retryNonIdempotent: true }, true],
    [{ failure: 'status503', attempt: 2 }, false],
    [{ failure: 'status503', bodyReplayable: false }, false]
  ] as Array<[Partial<TryOutcome>, boolean]>)('%j → %s', (change, expected) => {
    expect(shouldRetry({ ...base, ...change })).toBe(expected)
  })

  it('holds a 503 back exactly when shouldRetry would retry it', () => {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'POST', 'PATCH']) {
      for (const bodyReplayable of [true, false]) {
        for (const retryNonIdempotent of [true, false]) {
          for (const attempt of [1, 2, 3]) {
            const expected = shouldRetry({ method, failure: 'status503', responseStarted: false, bodyReplayable, retryNonIdempotent, attempt, maxAttempts: 2 })
            expect(may503BeRetried(method, bodyReplayable, retryNonIdempotent, attempt, 2), `${method} ${String(bodyReplayable)} ${String(retryNonIdempotent)} ${attempt}`).toBe(expected)
          }
        }
      }
    }
    expect(may503BeRetried('GET', true, false, 1, 2)).toBe(true)
  })

  it('knows the idempotent methods', () => {
    expect(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'].every(isIdempotent)).toBe(true)
    expect(['POST', 'PATCH'].some(isIdempotent)).toBe(false)
  })
})

describe('attempts', () => {
  it.each([
    ['refused', 'leader', false], // the leader died: nothing was sent, the next try waits for the next leader
    ['refused', undefined, true], // any instance would do: the second attempt goes elsewhere at once
    ['reset', 'leader', true], // something may have been applied
    ['timeout', 'leader', true],
    ['status5xx', 'leader', true]
  ] as const)('a %s try with role %s spends an attempt: %s', (failure, role, expected) => {
    expect(spendsAttempt(failure, role)).toBe(expected)
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
