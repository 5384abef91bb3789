import { describe, expect, it } from 'vitest'
import type { OpRecord } from '../../../scripts/chaos/core/history.js'
import { planRedisFaults, redisFaultKinds } from '../../../scripts/chaos/redis/faults.js'
import { availabilityMisses, duplicateAppends, firstAcknowledgedAfter, missingAcknowledged, regressions, spread, workloadFigures, type WorkloadFigures } from '../../../scripts/chaos/redis/measures.js'
import { sentinelRequested } from '../../../scripts/chaos/redis/main.js'

const rec = (seq: number, invoke: number, complete: number, outcome: 'ok' | 'fail', cause?: string): OpRecord =>
  ({ seq, workload: 'feed', kind: 'request', idempotent: false, intended: invoke, invoke, complete, outcome, phase: 'load', ...(cause !== undefined ? { cause } : {}) })

describe('Redis failover run: plan', () => {
  it('spreads the kinds evenly, in a seeded order, freezes within their range', () => {
    const plan = planRedisFaults(7, 21, redisFaultKinds, [2_500, 4_000])
    expect(plan).toHaveLength(21)
    for (const kind of redisFaultKinds) expect(plan.filter((f) => f.kind === kind)).toHaveLength(7)
    for (const f of plan.filter((x) => x.kind === 'redis-primary-freeze')) expect(f.freezeMs).toBeGreaterThanOrEqual(2_500)
    expect(planRedisFaults(7, 21, redisFaultKinds, [2_500, 4_000])).toEqual(plan)
    expect(planRedisFaults(8, 21, redisFaultKinds, [2_500, 4_000]).map((f) => f.kind)).not.toEqual(plan.map((f) => f.kind))
  })

  it('is asked for with --redis sentinel (either spelling), not with a Redis URL', () => {
    expect(sentinelRequested(['--redis', 'sentinel', '--faults', '3'])).toBe(true)
    expect(sentinelRequested(['--redis=sentinel'])).toBe(true)
    expect(sentinelRequested(['--redis', 'redis://127.0.0.1:6379'])).toBe(false)
    expect(sentinelRequested(['--duration', '60'])).toBe(false)
  })
})

describe('Redis failover run: measures', () => {
  it('counts values below the highest seen before (an epoch or a counter that went back)', () => {
    expect(regressions([1, 2, 2, 3])).toBe(0)
    expect(regressions([1, 3, 2, 2, 4, 3])).toBe(3)
    expect(regressions([])).toBe(0)
  })

  it('finds acknowledged ids the final primary does not hold', () => {
    expect(missingAcknowledged(['1-0', '2-0', '3-0'], new Set(['1-0', '3-0']))).toEqual(['2-0'])
  })

  it('counts a request appended twice by its unique amount, on the run\'s own accounts only', () => {
    const ours = (a: string): boolean => a.startsWith('ha-')
    expect(duplicateAppends([{ account: 'ha-1', amount: 1 }, { account: 'ha-2', amount: 2 }, { account: 'ha-1', amount: 1 }, { account: 'other', amount: 2 }], ours)).toBe(1)
  })

  it('failover time: fault → the first write sent after it that was acknowledged, within the fault\'s span', () => {
    const writes = [rec(1, 900, 950, 'ok'), rec(2, 1_000, 1_100, 'fail'), rec(3, 1_500, 3_200, 'ok'), rec(4, 2_000, 2_900, 'ok'), rec(5, 9_000, 9_010, 'ok')]
    expect(firstAcknowledgedAfter(1_000, writes)).toBe(1_900)
    expect(firstAcknowledgedAfter(3_000, writes, 5_000)).toBeUndefined()
  })

  it('per workload: requests, failures by cause, the longest error window', () => {
    const f = workloadFigures('feed', false, [rec(1, 0, 10, 'ok'), rec(2, 100, 150, 'fail', 'http 503 FEED_ERR_OUTCOME_UNKNOWN'), rec(3, 200, 700, 'fail', 'http 503 FEED_ERR_UNAVAILABLE'), rec(4, 800, 810, 'ok')])
    expect(f).toEqual({ name: 'feed', idempotent: false, requests: 4, failed: 2, failuresByCause: { 'http 503 FEED_ERR_OUTCOME_UNKNOWN': 1, 'http 503 FEED_ERR_UNAVAILABLE': 1 }, longestErrorWindowMs: 600, errorWindows: [{ atMs: 100, durationMs: 600, failed: 2 }] })
    expect(spread([undefined, 300, 100, 200])).toEqual({ samples: 3, p50Ms: 200, p99Ms: 300, maxMs: 300 })
  })

  it('availability: an error window past the bound, or any failure of an idempotent workload, is a miss', () => {
    const w = (name: string, idempotent: boolean, failed: number, longestErrorWindowMs: number): WorkloadFigures =>
      ({ name, idempotent, requests: 100, failed, failuresByCause: {}, longestErrorWindowMs, errorWindows: [] })
    expect(availabilityMisses([w('feed', false, 30, 3_000), w('echo', true, 0, 0)], 3_000)).toEqual([])
    expect(availabilityMisses([w('feed', false, 30, 3_001), w('echo', true, 1, 10)], 3_000)).toEqual([
      'feed: longest error window 3001 ms > 3000 ms',
      'echo: 1 failed requests (an idempotent workload must see none)'
    ])
  })
})
