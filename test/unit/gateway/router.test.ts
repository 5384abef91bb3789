import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { defaultOutlierPolicy } from '../../../gateway/src/resilience/outlier-detector.js'
import { Router, type RouterOptions } from '../../../gateway/src/upstreams/router.js'
import type { RoutingPolicy } from '../../../shared/src/registry/policy.js'
import type { InstanceRecord } from '../../../shared/src/registry/types.js'
import { fakePoolFactory } from './fake-pool.js'

/**
 * The router through its front door: a fake pool factory (no socket is ever opened), snapshots
 * as the registry watcher hands them over, and the log lines it writes.
 */
function setup (opts: Partial<RouterOptions> = {}): { router: Router, made: ReturnType<typeof fakePoolFactory>['made'], logs: Array<Record<string, unknown>> } {
  const { factory, made } = fakePoolFactory()
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk: Buffer, _encoding, done) { logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } })
  const router = new Router({
    panicThreshold: 0.5,
    connections: 7,
    health: { rise: 1, fall: 1 },
    outlier: defaultOutlierPolicy,
    factory,
    log: pino({ level: 'info' }, sink),
    ...opts
  })
  return { router, made, logs }
}

function record (id: string, service: string, port: number, more: { role?: string, startedAt?: number, policy?: RoutingPolicy } = {}): InstanceRecord {
  return { id, service, url: `http://127.0.0.1:${port}`, role: more.role ?? 'member', startedAt: more.startedAt ?? 1, ...(more.policy !== undefined ? { policy: more.policy } : {}) }
}

const snapshot = (...records: InstanceRecord[]): Map<string, InstanceRecord> => new Map(records.map((r) => [r.id, r]))
const settle = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

describe('Router with an injected pool factory', () => {
  it('makes one pool per instance, with its origin and the gateway options', () => {
    const { router, made } = setup()
    router.apply(snapshot(record('a-1', 'a', 1001), record('a-2', 'a', 1002)))
    expect(made.map((p) => p.origin)).toEqual(['http://127.0.0.1:1001', 'http://127.0.0.1:1002'])
    expect(made[0]?.options).toMatchObject({ connections: 7, pipelining: 1 })
    expect(router.service('a')?.upstreams.map((u) => u.pool)).toEqual(made)
  })

  it('replaces the pool of an instance that moved, closes the pools of instances that left, and all of them on close', async () => {
    const { router, made } = setup()
    router.apply(snapshot(record('a-1', 'a', 1001), record('a-2', 'a', 1002)))
    router.apply(snapshot(record('a-1', 'a', 1001), record('a-2', 'a', 2002))) // a-2 restarted on a new port
    await settle()
    expect(made.map((p) => [p.origin, p.closed])).toEqual([['http://127.0.0.1:1001', false], ['http://127.0.0.1:1002', true], ['http://127.0.0.1:2002', false]])
    router.apply(snapshot(record('a-2', 'a', 2002)))
    await settle()
    expect(made[0]?.closed).toBe(true)
    await router.close()
    expect(made.every((p) => p.closed)).toBe(true)
  })

  it('routes a service it never heard of, with the policy its instances declare', () => {
    const { router } = setup({ knownServices: ['echo'] })
    expect(router.service('brand-new')).toBeUndefined()
    router.apply(snapshot(record('n-1', 'brand-new', 1001, { policy: { routing: 'leader', balancer: 'round-robin', tryTimeoutMs: 5_000 } })))
    const pool = router.service('brand-new')
    expect(pool?.upstreams.map((u) => u.id)).toEqual(['n-1'])
    expect(pool?.policy).toMatchObject({ leaderRouting: true, balancer: 'round-robin', tryTimeoutMs: 5_000 })
    expect(pool?.strategy.name).toBe('round-robin')
    // the known service is there from the start, with the defaults, and no instance
    expect(router.service('echo')?.policy).toMatchObject({ balancer: 'least-outstanding', leaderRouting: false })
  })

  it('applies the defaults to a service whose instances declare nothing', () => {
    const { router } = setup()
    router.apply(snapshot(record('q-1', 'quiet', 1001)))
    expect(router.service('quiet')?.policy).toEqual({ balancer: 'least-outstanding', leaderRouting: false, retryNonIdempotent: false, tryTimeoutMs: undefined, hedge: false, cacheable: false, staleIfErrorMs: 0 })
  })

  it('follows a changed policy without a restart, and swaps the strategy only for another balancer', () => {
    const { router, logs } = setup()
    router.apply(snapshot(record('c-1', 'c', 1001, { policy: { balancer: 'least-saturated' } })))
    const pool = router.service('c')!
    const first = pool.strategy
    router.apply(snapshot(record('c-1', 'c', 1001, { policy: { balancer: 'least-saturated', cacheable: true } })))
    expect(pool.policy.cacheable).toBe(true)
    expect(pool.strategy).toBe(first)
    router.apply(snapshot(record('c-1', 'c', 1001, { policy: { balancer: 'random', cacheable: true } })))
    expect(pool.strategy.name).toBe('random')
    expect(logs.filter((l) => l.msg === 'routing policy adopted' && l.target === 'c')).toHaveLength(3)
  })

  it('keeps the last policy when every instance has left (a cacheable service answers stale from its cache)', () => {
    const { router } = setup()
    router.apply(snapshot(record('c-1', 'c', 1001, { policy: { cacheable: true, staleIfErrorS: 300 } })))
    router.apply(snapshot())
    expect(router.service('c')?.upstreams).toEqual([])
    expect(router.service('c')?.policy).toMatchObject({ cacheable: true, staleIfErrorMs: 300_000 })
  })

  it('takes the newest registration when instances disagree, and logs the disagreement once', () => {
    const { router, logs } = setup()
    const old = record('s-1', 's', 1001, { startedAt: 100, policy: { hedge: false } })
    const newer = record('s-2', 's', 1002, { startedAt: 200, policy: { hedge: true } })
    router.apply(snapshot(old, newer))
    router.apply(snapshot(old, { ...newer, role: 'busy' })) // a later change that settles nothing
    expect(router.service('s')?.policy.hedge).toBe(true)
    const warnings = logs.filter((l) => l.msg === "instances disagree on the routing policy: the newest registration's applies")
    expect(warnings).toEqual([expect.objectContaining({ target: 's', chosen: 's-2', disagreeing: ['s-1'] })])
    // the rollout finishes: the disagreement is over, and a new one would be logged again
    router.apply(snapshot(newer))
    router.apply(snapshot(newer, { ...old, policy: { hedge: false } }))
    expect(logs.filter((l) => l.msg === "instances disagree on the routing policy: the newest registration's applies")).toHaveLength(2)
  })

  it('keeps GW_BALANCERS over the declared balancer, and refuses an unknown one at once', () => {
    const { router } = setup({ balancers: { c: 'round-robin' } })
    router.apply(snapshot(record('c-1', 'c', 1001, { policy: { balancer: 'least-saturated', hedge: true } })))
    expect(router.service('c')?.policy).toMatchObject({ balancer: 'round-robin', hedge: true })
    expect(router.service('c')?.strategy.name).toBe('round-robin')
    expect(() => setup({ balancers: { c: 'fastest' } })).toThrow(/unknown balancer "fastest" for c/)
  })

  it('routes at most maxServices at once: a service with no instance left makes room, records beyond are skipped and logged once', () => {
    const { router, made, logs } = setup({ knownServices: ['known'], maxServices: 2 })
    router.apply(snapshot(record('x-1', 'x', 1001), record('y-1', 'y', 1002)))
    expect(router.service('x')).toBeDefined()
    expect(router.service('y')).toBeUndefined()
    expect(made.map((p) => p.origin)).toEqual(['http://127.0.0.1:1001'])
    router.apply(snapshot(record('x-1', 'x', 1001), record('y-1', 'y', 1002)))
    expect(logs.filter((l) => l.msg === 'registry record skipped' && l.instance === 'y-1')).toHaveLength(1)
    // x's instance leaves: y takes its place; the known service, empty too, is never forgotten
    router.apply(snapshot(record('y-1', 'y', 1002)))
    expect([...router.pools.keys()].sort()).toEqual(['known', 'y'])
  })
})
