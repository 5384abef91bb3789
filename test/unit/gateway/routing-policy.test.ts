import { describe, expect, it } from 'vitest'
import { choosePolicy, compilePolicy, defaultRoutingPolicy } from '../../../gateway/src/upstreams/routing-policy.js'
import type { RoutingPolicy } from '../../../shared/src/registry/policy.js'
import type { InstanceRecord } from '../../../shared/src/registry/types.js'

function record (id: string, startedAt: number, policy?: RoutingPolicy): InstanceRecord {
  return { id, service: 's', url: 'http://127.0.0.1:1', role: 'member', startedAt, ...(policy !== undefined ? { policy } : {}) }
}

describe('compilePolicy', () => {
  it('fills in every default', () => {
    expect(compilePolicy(undefined)).toEqual(defaultRoutingPolicy)
    expect(compilePolicy({})).toEqual({ balancer: 'least-outstanding', leaderRouting: false, retryNonIdempotent: false, tryTimeoutMs: undefined, hedge: false, cacheable: false, staleIfErrorMs: 0 })
  })

  it('keeps what the service declares, in the gateway units', () => {
    expect(compilePolicy({ balancer: 'least-saturated', routing: 'leader', retryNonIdempotent: true, tryTimeoutMs: 5_000, hedge: true, cacheable: true, staleIfErrorS: 300 }))
      .toEqual({ balancer: 'least-saturated', leaderRouting: true, retryNonIdempotent: true, tryTimeoutMs: 5_000, hedge: true, cacheable: true, staleIfErrorMs: 300_000 })
  })

  it("lets the gateway's override (GW_BALANCERS) replace the declared balancer", () => {
    expect(compilePolicy({ balancer: 'least-saturated', hedge: true }, 'round-robin')).toMatchObject({ balancer: 'round-robin', hedge: true })
  })
})

describe('choosePolicy', () => {
  it.each([
    // [case, records, chosen instance, disagreeing instances]
    ['no instance declares one: the defaults', [record('a', 1), record('b', 2)], undefined, []],
    ['all agree', [record('a', 1, { hedge: true }), record('b', 2, { hedge: true })], 'b', []],
    ['agreeing in effect is agreeing', [record('a', 1, {}), record('b', 2, { balancer: 'least-outstanding' })], 'b', []],
    ['the newest registration wins', [record('new', 9, { cacheable: true }), record('old', 1, { cacheable: false }), record('mid', 5, { cacheable: false })], 'new', ['mid', 'old']],
    ['a tie goes to the greatest id', [record('b', 5, { hedge: true }), record('a', 5, { hedge: false })], 'b', ['a']],
    ['an instance that declares nothing has no say', [record('quiet', 9), record('a', 1, { routing: 'leader' })], 'a', []]
  ] as const)('%s', (_case, records, from, disagreeing) => {
    const choice = choosePolicy(records)
    expect(choice.from).toBe(from)
    expect(choice.disagreeing).toEqual(disagreeing)
    expect(choice.policy).toBe(records.find((r) => r.id === from)?.policy)
  })
})
