import { describe, expect, it } from 'vitest'
import { summarizeOutcomes, type Outcome } from '../../../shared/testing/timed-load.js'

const ok = (start: number, end: number): Outcome => ({ start, end, ok: true, result: '200' })
const fail = (start: number, end: number, result = '503'): Outcome => ({ start, end, ok: false, result })

describe('summarizeOutcomes', () => {
  it('reports no error window when nothing failed, and the longest stall between successes', () => {
    expect(summarizeOutcomes([ok(0, 10), ok(10, 20), ok(20, 120)])).toEqual({ sent: 3, ok: 3, failed: 0, failures: {}, longestErrorWindowMs: 0, longestGapMs: 100 })
  })

  it('measures an error window from the first failed request to the next success', () => {
    const s = summarizeOutcomes([ok(0, 10), fail(12, 30), fail(31, 50, 'ECONNRESET'), ok(51, 70), ok(70, 80), fail(90, 95), ok(96, 100)])
    expect(s.failures).toEqual({ 503: 2, ECONNRESET: 1 })
    expect(s.longestErrorWindowMs).toBe(70 - 12)
    expect(s.failed).toBe(3)
  })

  it('counts failures still running at the end', () => {
    expect(summarizeOutcomes([ok(0, 10), fail(20, 40), fail(41, 90)]).longestErrorWindowMs).toBe(70)
  })
})
