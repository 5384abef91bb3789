import { describe, expect, it } from 'vitest'
import { Hedging } from '../../../gateway/src/proxy/hedge.js'
import { defaultHedgePolicy, type HedgeRequest, type HedgeVerdict } from '../../../gateway/src/resilience/hedge-policy.js'
import { Traffic } from '../../../gateway/src/stats/traffic.js'
import type { Upstream } from '../../../gateway/src/upstreams/upstream.js'

/**
 * The gateway's hedging state: per instance, the hedges of its tries pause while they do not
 * pay, a probe still goes out now and then, and hedging resumes once the probes pay.
 */
const get: HedgeRequest = { enabled: true, method: 'GET', role: undefined, bodyReplayable: true }
const now = 1_000

function service (): { due: (first: Upstream, count: number, hedgesPaid: boolean) => HedgeVerdict[] } {
  const traffic = new Traffic()
  for (let i = 0; i < 100; i++) traffic.recordRequest('echo', now, 10, true) // a p95 to hedge at
  const hedging = new Hedging({ policy: defaultHedgePolicy, budgetRatio: 1, traffic })
  return {
    // `count` requests whose try on `first` outlasts the hedge delay; each hedge sent pays or does not
    due: (first, count, hedgesPaid) => Array.from({ length: count }, () => {
      const hedge = hedging.forRequest('echo', get, now)!
      const verdict = hedge.acquire(now, first)
      if (verdict === 'sent') hedge.paid(first, hedgesPaid)
      return verdict
    })
  }
}

const instance = (id: string): Upstream => ({ id }) as unknown as Upstream
const sent = (verdicts: HedgeVerdict[]): number => verdicts.filter((v) => v === 'sent').length

describe('Hedging', () => {
  it('hedges while the hedges pay', () => {
    expect(sent(service().due(instance('a'), 300, true))).toBe(300)
  })

  it('pauses for an instance whose hedges do not pay, down to one probe in ten', () => {
    const s = service()
    const a = instance('a')
    expect(sent(s.due(a, 20, false))).toBe(20) // too few known to judge
    const paused = s.due(a, 100, false)
    expect(sent(paused)).toBe(10)
    expect(paused.filter((v) => v === 'paused')).toHaveLength(90)
  })

  it('hedges at once the tries on an instance it has not judged (a slow one joining)', () => {
    const s = service()
    s.due(instance('a'), 40, false)
    expect(sent(s.due(instance('slow'), 10, true))).toBe(10)
  })

  it('resumes once a probe pays: it stands for the ten hedges held back', () => {
    const s = service()
    const a = instance('a')
    s.due(a, 20, false)
    // 20 unpaid known; the first paying probe counts ten times: 10 paid of 30 is past a fifth
    expect(sent(s.due(a, 10, true))).toBe(1)
    expect(sent(s.due(a, 10, true))).toBe(10)
  })
})
