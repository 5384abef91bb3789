import { afterEach, describe, expect, it } from 'vitest'
import { LeastOutstandingStrategy } from '../../../gateway/src/balancing/least-outstanding.js'
import { RoundRobinStrategy } from '../../../gateway/src/balancing/round-robin.js'
import { defaultOutlierPolicy } from '../../../gateway/src/resilience/outlier-detector.js'
import { Admission, slowStartWeight, type SlowStartPolicy } from '../../../gateway/src/resilience/slow-start.js'
import { ServicePool } from '../../../gateway/src/upstreams/service-pool.js'
import { Upstream } from '../../../gateway/src/upstreams/upstream.js'
import { fakePoolFactory } from './fake-pool.js'
import { seeded } from '../../contracts/strategy.contract.js'

const linear: SlowStartPolicy = { windowMs: 10_000, aggression: 1, minWeight: 0.1 }

describe('slowStartWeight', () => {
  it.each([
    // [ms since admission, policy, expected weight]
    [0, linear, 0.1],
    [500, linear, 0.1], // the floor: never starved
    [2_500, linear, 0.25],
    [5_000, linear, 0.5],
    [9_999, linear, 0.9999],
    [10_000, linear, 1],
    [60_000, linear, 1],
    [2_500, { ...linear, aggression: 2 }, 0.5], // sqrt: faster at first
    [5_000, { ...linear, windowMs: 0 }, 1], // off
    [-50, linear, 0.1] // a clock step back is the start of the ramp
  ] as const)('%i ms into the ramp → %s', (since, policy, expected) => {
    expect(slowStartWeight(since, policy)).toBeCloseTo(expected, 6)
  })
})

describe('Admission', () => {
  it('starts a ramp when an instance is first seen available, and again after it was out', () => {
    const a = new Admission()
    expect(a.weight(0, linear)).toBe(1) // never seen: no ramp to apply
    a.observe(true, 1_000)
    expect(a.weight(1_000, linear)).toBeCloseTo(0.1)
    a.observe(true, 6_000) // still in: the ramp goes on from the first sighting
    expect(a.weight(6_000, linear)).toBeCloseTo(0.5)
    expect(a.weight(11_000, linear)).toBe(1)
    a.observe(false, 20_000) // ejected or failing checks
    a.observe(true, 21_000) // re-admitted: a new ramp
    expect(a.weight(21_000, linear)).toBeCloseTo(0.1)
    expect(a.weight(26_000, linear)).toBeCloseTo(0.5)
    a.admit(40_000) // re-admitted by health checks, seen by no pick yet
    expect(a.weight(42_500, linear)).toBeCloseTo(0.25)
  })
})

// no real connection pool: the balancing shell never touches one
const opts = { health: { rise: 1, fall: 1 }, outlier: { ...defaultOutlierPolicy, consecutive5xx: 2, baseEjectionMs: 1_000, maxEjectionMs: 10_000 }, connections: 1, factory: fakePoolFactory().factory }
const made: Upstream[] = []
function upstream (id: string): Upstream {
  const u = new Upstream({ id, service: 's', url: `http://127.0.0.1:${9 + made.length}`, role: 'member', startedAt: 0 }, opts)
  made.push(u)
  return u
}
afterEach(async () => { await Promise.all(made.splice(0).map(async (u) => await u.close())) })

/** The share of `picks` picks (one per ms from `from`) that go to `id`. */
function share (pool: ServicePool, id: string, from: number, picks: number): number {
  let n = 0
  for (let i = 0; i < picks; i++) if (pool.pick(from + i * (1_000 / picks))?.id === id) n += 1
  return n / picks
}

describe('ServicePool with slow start', () => {
  it('gives a newcomer a share that ramps up to its full share over the window', () => {
    const pool = new ServicePool('s', RoundRobinStrategy(), 0.5, { slowStart: linear, random: seeded(1) })
    const [a, b] = [upstream('a'), upstream('b')]
    pool.upstreams = [a, b]
    share(pool, 'a', 1_000, 100) // a and b are seen (and ramp together) from t = 1 s
    const c = upstream('c')
    pool.upstreams = [a, b, c]
    const early = share(pool, 'c', 20_000, 2_000) // c's first second: weight 0.1
    const middle = share(pool, 'c', 25_000, 2_000) // weight about 0.5
    const late = share(pool, 'c', 31_000, 2_000) // past the window
    expect(early).toBeLessThan(0.06)
    expect(middle).toBeGreaterThan(early * 2)
    expect(middle).toBeLessThan(0.25)
    expect(late).toBeGreaterThan(0.3)
  })

  it('ramps an instance again after an ejection, even under least-outstanding where it looks idle', () => {
    const pool = new ServicePool('s', LeastOutstandingStrategy({ random: seeded(2) }), 0.3, { slowStart: linear, random: seeded(3) })
    const [a, b, c] = [upstream('a'), upstream('b'), upstream('c')]
    pool.upstreams = [a, b]
    share(pool, 'a', 10_000, 100) // a and b are warm by t = 30 s
    pool.upstreams = [a, b, c]
    a.inflight = 5
    b.inflight = 5 // c looks idle: least-outstanding alone would send it about 2/3 of the picks
    expect(share(pool, 'c', 30_000, 1_000)).toBeLessThan(0.1) // cold at first
    expect(share(pool, 'c', 45_000, 1_000)).toBeGreaterThan(0.5)
    c.outlier.eject(50_000)
    expect(share(pool, 'c', 50_100, 100)).toBe(0) // ejected
    expect(share(pool, 'c', 51_000, 1_000)).toBeLessThan(0.1) // back, and cold again
  })

  it('changes nothing with a window of 0, and never withholds the only instance', () => {
    const off = new ServicePool('s', RoundRobinStrategy(), 0.5, { slowStart: { ...linear, windowMs: 0 }, random: seeded(4) })
    const [a, b] = [upstream('a'), upstream('b')]
    off.upstreams = [a, b]
    expect(share(off, 'b', 0, 1_000)).toBeCloseTo(0.5, 2)
    const single = new ServicePool('s', RoundRobinStrategy(), 0.5, { slowStart: linear, random: seeded(5) })
    single.upstreams = [upstream('only')]
    expect(share(single, 'only', 0, 100)).toBe(1)
  })
})

describe('ServicePool with slow start, every instance ramping', () => {
  it('leaves the strategy\'s choices alone when all instances ramp together (a gateway that just started)', () => {
    const pool = new ServicePool('s', LeastOutstandingStrategy({ random: seeded(6) }), 0.5, { slowStart: linear, random: seeded(7) })
    const [busy, idle] = [upstream('busy'), upstream('idle')]
    pool.upstreams = [busy, idle]
    busy.inflight = 10
    // both first seen at t = 1 s: both at weight 0.1, and least-outstanding still picks the idle one
    expect(share(pool, 'idle', 1_000, 1_000)).toBe(1)
  })
})
