import { afterEach, describe, expect, it } from 'vitest'
import { RoundRobinStrategy } from '../../../gateway/src/balancing/round-robin.js'
import { ServicePool } from '../../../gateway/src/upstreams/service-pool.js'
import { Upstream } from '../../../gateway/src/upstreams/upstream.js'
import { fakePoolFactory } from './fake-pool.js'
import { defaultOutlierPolicy } from '../../../gateway/src/resilience/outlier-detector.js'

// no real connection pool: the balancing shell never touches one
const opts = { health: { rise: 1, fall: 1 }, outlier: { ...defaultOutlierPolicy, consecutive5xx: 2, baseEjectionMs: 1_000, maxEjectionMs: 10_000 }, connections: 1, factory: fakePoolFactory().factory }
const made: Upstream[] = []
function upstream (id: string, role = 'member'): Upstream {
  const u = new Upstream({ id, service: 's', url: `http://127.0.0.1:${9 + made.length}`, role, startedAt: 0 }, opts)
  made.push(u)
  return u
}
afterEach(async () => { await Promise.all(made.splice(0).map(async (u) => await u.close())) })

describe('ServicePool', () => {
  it('skips ejected and unhealthy instances', () => {
    const pool = new ServicePool('s', RoundRobinStrategy(), 0.3)
    const [a, b, c] = [upstream('a'), upstream('b'), upstream('c')]
    pool.upstreams = [a, b, c]
    a.outlier.eject(0)
    b.health.observe(false)
    for (let i = 0; i < 5; i++) expect(pool.pick(10)).toBe(c)
  })

  it('balances across all of them in panic (too few available) rather than fail', () => {
    const pool = new ServicePool('s', RoundRobinStrategy(), 0.5)
    const [a, b, c] = [upstream('a'), upstream('b'), upstream('c')]
    pool.upstreams = [a, b, c]
    a.outlier.eject(0)
    b.outlier.eject(0)
    const seen = new Set(Array.from({ length: 6 }, () => pool.pick(10)!.id))
    expect(seen).toEqual(new Set(['a', 'b', 'c']))
  })

  it('never ejects the last available instance', () => {
    const pool = new ServicePool('s', RoundRobinStrategy(), 0.5)
    const [a, b] = [upstream('a'), upstream('b')]
    pool.upstreams = [a, b]
    expect(pool.mayEject(a, 0)).toBe(true)
    a.outlier.eject(0)
    expect(pool.mayEject(b, 0)).toBe(false)
  })

  it('filters by role and excludes instances already tried', () => {
    const pool = new ServicePool('s', RoundRobinStrategy(), 0.5)
    const [l, f1, f2] = [upstream('l', 'leader'), upstream('f1', 'follower'), upstream('f2', 'follower')]
    pool.upstreams = [l, f1, f2]
    expect(pool.pick(0, { role: 'leader' })).toBe(l)
    expect(pool.pick(0, { role: 'leader', exclude: new Set([l]) })).toBeUndefined()
    expect(pool.pick(0, { exclude: new Set([l, f1]) })).toBe(f2)
  })

  it('never falls back to a leader failing its health checks (dead, frozen), even in panic', () => {
    const pool = new ServicePool('s', RoundRobinStrategy(), 0.5)
    const [l, f1, f2] = [upstream('l', 'leader'), upstream('f1', 'follower'), upstream('f2', 'follower')]
    pool.upstreams = [l, f1, f2]
    l.health.observe(false)
    expect(pool.pick(10, { role: 'leader' })).toBeUndefined()
  })

  it('keeps sending to an ejected leader that passes its health checks: no other instance can take its requests', () => {
    const pool = new ServicePool('s', RoundRobinStrategy(), 0.5)
    const [l, f1] = [upstream('l', 'leader'), upstream('f1', 'follower')]
    pool.upstreams = [l, f1]
    l.outlier.eject(0)
    expect(pool.pick(10)).toBe(f1) // an ejection still counts for the requests any instance serves
    expect(pool.pick(10, { role: 'leader' })).toBe(l)
  })
})
