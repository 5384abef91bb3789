import { describe, expect, it } from 'vitest'
import { createStrategy } from '../../../gateway/src/balancing/index.js'
import { ewma, LatencyEwmaStrategy } from '../../../gateway/src/balancing/latency-ewma.js'
import { LeastOutstandingStrategy } from '../../../gateway/src/balancing/least-outstanding.js'
import { RandomStrategy } from '../../../gateway/src/balancing/random.js'
import { RoundRobinStrategy } from '../../../gateway/src/balancing/round-robin.js'
import { twoDistinct } from '../../../gateway/src/balancing/strategy.js'
import { candidates, runStrategyContract, seeded } from '../../contracts/strategy.contract.js'

runStrategyContract('round-robin', () => RoundRobinStrategy())
runStrategyContract('random', (random) => RandomStrategy({ random }))
runStrategyContract('least-outstanding', (random) => LeastOutstandingStrategy({ random }))
runStrategyContract('latency-ewma', (random) => LatencyEwmaStrategy({ random }))

describe('round-robin', () => {
  it('visits each candidate in turn', () => {
    const s = RoundRobinStrategy()
    const list = candidates(3)
    expect(Array.from({ length: 6 }, () => s.select(list)!.id)).toEqual(['c1', 'c2', 'c3', 'c1', 'c2', 'c3'])
  })
})

describe('least-outstanding (power of two choices)', () => {
  it('prefers the candidate with fewer requests in flight', () => {
    const s = LeastOutstandingStrategy({ random: seeded(7) })
    const list = [{ id: 'busy', inflight: 50, ewmaMs: 1 }, { id: 'idle', inflight: 0, ewmaMs: 1 }]
    for (let i = 0; i < 100; i++) expect(s.select(list)!.id).toBe('idle')
  })

  it('breaks ties at random, whatever the latency: a slower instance under light load is not starved', () => {
    const s = LeastOutstandingStrategy({ random: seeded(11) })
    const list = [{ id: 'slow', inflight: 0, ewmaMs: 40 }, { id: 'fast', inflight: 0, ewmaMs: 0.5 }]
    const slow = Array.from({ length: 400 }, () => s.select(list)!.id).filter((id) => id === 'slow').length
    expect(slow).toBeGreaterThan(120)
    expect(slow).toBeLessThan(280)
  })

  it('never picks the busiest of three', () => {
    const s = LeastOutstandingStrategy({ random: seeded(8) })
    const list = [{ id: 'a', inflight: 1, ewmaMs: 1 }, { id: 'b', inflight: 2, ewmaMs: 1 }, { id: 'c', inflight: 9, ewmaMs: 1 }]
    for (let i = 0; i < 300; i++) expect(s.select(list)!.id).not.toBe('c')
  })
})

describe('latency-ewma', () => {
  it('prefers the faster of two equally loaded candidates', () => {
    const s = LatencyEwmaStrategy({ random: seeded(9) })
    const list = [{ id: 'slow', inflight: 1, ewmaMs: 40 }, { id: 'fast', inflight: 1, ewmaMs: 2 }]
    for (let i = 0; i < 100; i++) expect(s.select(list)!.id).toBe('fast')
  })

  it('tries a newcomer with no measurement instead of starving it', () => {
    const s = LatencyEwmaStrategy({ random: seeded(10) })
    const list = [{ id: 'known', inflight: 0, ewmaMs: 5 }, { id: 'new', inflight: 0, ewmaMs: 0 }]
    expect(s.select(list)!.id).toBe('new')
  })

  it('folds samples into a moving average', () => {
    expect(ewma(0, 10)).toBe(10)
    expect(ewma(10, 20, 0.5)).toBe(15)
  })
})

describe('twoDistinct', () => {
  it('always draws two different indexes', () => {
    const random = seeded(11)
    for (let i = 0; i < 1_000; i++) {
      const [a, b] = twoDistinct(2 + (i % 5), random)
      expect(a).not.toBe(b)
    }
  })
})

describe('createStrategy', () => {
  it('maps names to strategies and refuses unknown ones', () => {
    expect(createStrategy('round-robin').name).toBe('round-robin')
    expect(() => createStrategy('fastest')).toThrow(expect.objectContaining({ code: 'CFG_ERR_UNKNOWN_STRATEGY' }))
  })
})
