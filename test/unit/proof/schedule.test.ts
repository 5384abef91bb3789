import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../../shared/testing/random.js'
import { pickInstance, planFaults } from '../../../scripts/chaos/core/schedule.js'

const all = ['echo', 'compute', 'feed', 'ledger-hh', 'ledger-hw', 'sink', 'kv-leader', 'kv-quorum']

describe('fault schedule', () => {
  it('is the same for the same seed and different for another', () => {
    const a = planFaults({ seed: 7, durationMs: 120_000, services: all })
    expect(planFaults({ seed: 7, durationMs: 120_000, services: all })).toEqual(a)
    expect(planFaults({ seed: 8, durationMs: 120_000, services: all })).not.toEqual(a)
  })

  it('keeps faults inside the run: after the warm-up, finished before the cool-down', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const faults = planFaults({ seed, durationMs: 60_000, services: all, meanGapMs: 5_000 })
      expect(faults.length).toBeGreaterThan(3)
      for (const f of faults) {
        expect(f.atMs).toBeGreaterThanOrEqual(3_000)
        expect(f.atMs + (f.freezeMs ?? 0)).toBeLessThanOrEqual(52_000)
        if (f.kind === 'freeze') expect(f.freezeMs).toBeGreaterThanOrEqual(2_000)
      }
      expect(faults.filter((f) => f.kind === 'redis-restart')).toHaveLength(1)
      expect(faults.map((f) => f.atMs)).toEqual([...faults.map((f) => f.atMs)].sort((x, y) => x - y))
    }
  })

  it('targets leaders and hots only when those services run, and never the gateway', () => {
    const echoOnly = Array.from({ length: 30 }, (_, seed) => planFaults({ seed, durationMs: 120_000, services: ['echo', 'gateway'] })).flat()
    expect(echoOnly.some((f) => f.kind === 'kill-leader' || f.kind === 'kill-hot')).toBe(false)
    expect(echoOnly.every((f) => f.kind === 'redis-restart' || f.service === 'echo')).toBe(true)
    const full = Array.from({ length: 30 }, (_, seed) => planFaults({ seed, durationMs: 120_000, services: all })).flat()
    expect(new Set(full.map((f) => f.kind))).toEqual(new Set(['kill', 'freeze', 'restart', 'kill-leader', 'kill-hot', 'redis-restart']))
  })

  it('honours the bound on the count and the Redis switch', () => {
    expect(planFaults({ seed: 1, durationMs: 600_000, services: all, maxFaults: 4 })).toHaveLength(4)
    expect(planFaults({ seed: 1, durationMs: 120_000, services: all, redisRestart: false }).some((f) => f.kind === 'redis-restart')).toBe(false)
    expect(planFaults({ seed: 1, durationMs: 5_000, services: all })).toEqual([])
  })

  it('resolves a pick against instances sorted by id', () => {
    const xs = [{ id: 'echo-10' }, { id: 'echo-2' }, { id: 'echo-1' }]
    expect(pickInstance(xs, 0)?.id).toBe('echo-1')
    expect(pickInstance(xs, 0.5)?.id).toBe('echo-2')
    expect(pickInstance(xs, 0.99)?.id).toBe('echo-10')
    expect(pickInstance([], 0.5)).toBeUndefined()
  })

  it('draws uniform-looking numbers in [0, 1)', () => {
    const random = seededRandom(42)
    const xs = Array.from({ length: 10_000 }, random)
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...xs)).toBeLessThan(1)
    expect(xs.reduce((a, b) => a + b, 0) / xs.length).toBeCloseTo(0.5, 1)
  })
})
