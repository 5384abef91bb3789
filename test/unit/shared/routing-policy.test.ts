import { describe, expect, it } from 'vitest'
import { checkPolicy, declaredPolicy } from '../../../shared/src/registry/policy.js'
import { checkRecord } from '../../../shared/src/registry/types.js'

describe('routing policy', () => {
  it('accepts every field, listed in one order whatever order they came in', () => {
    const check = checkPolicy({ staleIfErrorS: 300, cacheable: true, hedge: true, tryTimeoutMs: 10_000, retryNonIdempotent: false, routing: 'leader', balancer: 'least-saturated' })
    expect(check).toEqual({ ok: true, policy: { balancer: 'least-saturated', routing: 'leader', retryNonIdempotent: false, tryTimeoutMs: 10_000, hedge: true, cacheable: true, staleIfErrorS: 300 }, unknown: [] })
    if (check.ok) expect(Object.keys(check.policy)).toEqual(['balancer', 'routing', 'retryNonIdempotent', 'tryTimeoutMs', 'hedge', 'cacheable', 'staleIfErrorS'])
  })

  it('accepts an empty policy (every default)', () => {
    expect(checkPolicy({})).toEqual({ ok: true, policy: {}, unknown: [] })
  })

  it('drops fields it does not know, and names them', () => {
    expect(checkPolicy({ hedge: true, stickiness: 'cookie' })).toEqual({ ok: true, policy: { hedge: true }, unknown: ['stickiness'] })
  })

  it.each([
    ['not a JSON object', null],
    ['not a JSON object', [1]],
    ['not a JSON object', 'leader'],
    ['balancer "fastest"', { balancer: 'fastest' }],
    ['balancer "__proto__"', { balancer: '__proto__' }],
    ['routing "sticky"', { routing: 'sticky' }],
    ['hedge "yes"', { hedge: 'yes' }],
    ['cacheable 1', { cacheable: 1 }],
    ['retryNonIdempotent null', { retryNonIdempotent: null }],
    ['tryTimeoutMs 0', { tryTimeoutMs: 0 }],
    ['tryTimeoutMs 1.5', { tryTimeoutMs: 1.5 }],
    ['tryTimeoutMs 600001', { tryTimeoutMs: 600_001 }],
    ['tryTimeoutMs "5000"', { tryTimeoutMs: '5000' }],
    ['staleIfErrorS -1', { staleIfErrorS: -1 }],
    ['staleIfErrorS 604801', { staleIfErrorS: 604_801 }],
    ['more than 32 fields', Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, i]))]
  ])('refuses %s', (problem, raw) => {
    const check = checkPolicy(raw)
    expect(check.ok).toBe(false)
    if (!check.ok) expect(check.problem.startsWith(problem), check.problem).toBe(true)
  })

  it('stops a service at start on its own bad or unknown field, naming it', () => {
    expect(declaredPolicy('hello', { balancer: 'random', hedge: true })).toEqual({ balancer: 'random', hedge: true })
    expect(() => declaredPolicy('hello', { tryTimeoutMs: 5 })).toThrow(/hello: bad routing policy: tryTimeoutMs 5/)
    expect(() => declaredPolicy('hello', { hedge: true, hegde: true } as never)).toThrow(/unknown field\(s\) hegde/)
  })
})

describe('registry records with a routing policy', () => {
  const base = { id: 'hello-1', service: 'hello', url: 'http://127.0.0.1:40123', role: 'member', startedAt: 1 }

  it('carry the validated policy', () => {
    expect(checkRecord(JSON.stringify({ ...base, policy: { routing: 'leader', surprise: 1 } }))).toEqual({ ok: true, record: { ...base, policy: { routing: 'leader' } } })
  })

  it('are skipped whole when the policy is bad', () => {
    expect(checkRecord(JSON.stringify({ ...base, policy: { balancer: 'fastest' } }))).toEqual({ ok: false, problem: expect.stringMatching(/^bad policy: balancer "fastest"/) })
    expect(checkRecord(JSON.stringify({ ...base, policy: 'leader' }))).toEqual({ ok: false, problem: 'bad policy: not a JSON object' })
  })

  it('without a policy have none (the gateway applies the defaults)', () => {
    const check = checkRecord(JSON.stringify(base))
    expect(check.ok && check.record.policy).toBeUndefined()
  })
})
