import { describe, expect, it } from 'vitest'
import { createStrategy } from '../../../gateway/src/balancing/index.js'
import { LeastSaturatedStrategy } from '../../../gateway/src/balancing/least-saturated.js'
import { capacityFromMeta, saturationScore } from '../../../gateway/src/balancing/saturation.js'
import { runStrategyContract, seeded } from '../../contracts/strategy.contract.js'

runStrategyContract('least-saturated', (random) => LeastSaturatedStrategy({ random }))

describe('capacityFromMeta', () => {
  it.each([
    [{ threads: 4, jobs: 2, busy: 3, queued: 5 }, { threads: 4, background: 2 }], // busy/queued are for people
    [{ threads: 2 }, { threads: 2, background: 0 }],
    [{ threads: 2, jobs: -1 }, { threads: 2, background: 0 }], // nonsense counts as nothing
    [{ threads: 2, jobs: 'x' }, { threads: 2, background: 0 }],
    [{ threads: 0 }, undefined],
    [{ threads: '4' }, undefined],
    [{ epoch: 3 }, undefined],
    [undefined, undefined]
  ] as const)('%j → %j', (meta, expected) => {
    expect(capacityFromMeta(meta)).toEqual(expected)
  })
})

describe('saturationScore', () => {
  it.each([
    // [in flight from this gateway, capacity, score]
    [0, undefined, 1], // no capacity published: plain least-outstanding
    [3, undefined, 4],
    [0, { threads: 1, background: 0 }, 1],
    [0, { threads: 4, background: 0 }, 0.25],
    [3, { threads: 4, background: 0 }, 1],
    [1, { threads: 2, background: 3 }, 2.5] // the jobs it runs take threads too
  ] as const)('%i in flight, %j → %f', (inflight, capacity, expected) => {
    expect(saturationScore(inflight, capacity)).toBe(expected)
  })
})

describe('least-saturated', () => {
  it('is a balancer name the topology may use', () => {
    expect(createStrategy('least-saturated').name).toBe('least-saturated')
  })

  it('prefers the instance with free threads over one whose pool is full, at equal requests in flight', () => {
    const s = LeastSaturatedStrategy({ random: seeded(1) })
    const list = [
      { id: 'one-thread', inflight: 1, ewmaMs: 1, capacity: { threads: 1, background: 0 } },
      { id: 'four-threads', inflight: 1, ewmaMs: 1, capacity: { threads: 4, background: 0 } }
    ]
    for (let i = 0; i < 100; i++) expect(s.select(list)!.id).toBe('four-threads')
  })

  it('sends work in proportion to threads as requests pile up', () => {
    const s = LeastSaturatedStrategy({ random: seeded(2) })
    const small = { id: 'small', inflight: 0, ewmaMs: 0, capacity: { threads: 1, background: 0 } }
    const big = { id: 'big', inflight: 0, ewmaMs: 0, capacity: { threads: 3, background: 0 } }
    for (let i = 0; i < 40; i++) s.select([small, big])!.inflight += 1 // nothing finishes: where does the queue build?
    expect(big.inflight).toBe(30)
    expect(small.inflight).toBe(10)
  })
})
