import { describe, expect, it } from 'vitest'
import { RollingLatency } from '../../../gateway/src/stats/rolling-latency.js'

describe('RollingLatency', () => {
  it('reports rate and percentiles within the bucket resolution', () => {
    const w = new RollingLatency()
    for (let i = 0; i < 1_000; i++) w.record(10_000 + i, i < 990 ? 2 : 100, true)
    const s = w.snapshot(11_000)
    expect(s.count).toBe(1_000)
    expect(s.rps).toBeCloseTo(1_000, -1)
    expect(s.p50Ms).toBeGreaterThanOrEqual(2)
    expect(s.p50Ms).toBeLessThan(2 * 1.2)
    expect(s.p99Ms).toBeGreaterThanOrEqual(2)
    expect(s.p99Ms).toBeLessThan(2.4)
    w.record(11_000, 100, true) // now 11 of 1001 are slow: the 99th percentile is a slow one
    expect(w.snapshot(11_500).p99Ms).toBeGreaterThan(100)
  })

  it('counts errors and forgets what left the window', () => {
    const w = new RollingLatency({ slots: 3, slotMs: 1_000 })
    w.record(0, 5, false)
    w.record(100, 5, true)
    expect(w.snapshot(500).errorRate).toBe(0.5)
    expect(w.snapshot(10_000).count).toBe(0)
    w.record(10_000, 1, true)
    expect(w.snapshot(10_100)).toMatchObject({ count: 1, errorRate: 0 })
  })
})

describe('RollingLatency.percentile', () => {
  it('gives any percentile of the window and the count it is drawn from', () => {
    const w = new RollingLatency()
    for (let i = 0; i < 100; i++) w.record(10_000 + i, i < 94 ? 2 : 50, true)
    expect(w.percentile(10_500, 0.9)).toMatchObject({ count: 100 })
    expect(w.percentile(10_500, 0.9).percentileMs).toBeLessThan(2.4)
    expect(w.percentile(10_500, 0.95).percentileMs).toBeGreaterThanOrEqual(50)
    expect(w.percentile(60_000, 0.95)).toEqual({ percentileMs: 0, count: 0 })
  })
})
