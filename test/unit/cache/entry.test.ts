import { describe, expect, it } from 'vitest'
import { freshness, jitteredTtl, makeEntry, namespacedKey, parseEntry } from '../../../shared/src/cache/entry.js'

describe('cache entry rules', () => {
  it('is fresh until the TTL, stale within the window, then dead', () => {
    const e = makeEntry('v', 1_000, 100, 50)
    expect(freshness(e, 1_000)).toBe('fresh')
    expect(freshness(e, 1_099)).toBe('fresh')
    expect(freshness(e, 1_100)).toBe('stale')
    expect(freshness(e, 1_149)).toBe('stale')
    expect(freshness(e, 1_150)).toBe('dead')
  })

  it('without a stale window goes straight from fresh to dead', () => {
    const e = makeEntry('v', 0, 10, 0)
    expect(freshness(e, 9)).toBe('fresh')
    expect(freshness(e, 10)).toBe('dead')
  })

  it('jitters the TTL within ±jitter and never below 1 ms', () => {
    expect(jitteredTtl(1_000, 0.1, () => 0)).toBe(900)
    expect(jitteredTtl(1_000, 0.1, () => 0.5)).toBe(1_000)
    expect(jitteredTtl(1_000, 0.1, () => 0.999999)).toBe(1_100)
    expect(jitteredTtl(1, 0.9, () => 0)).toBe(1)
    expect(jitteredTtl(1_000, 0, () => 0)).toBe(1_000)
  })

  it('namespaces and versions keys', () => {
    expect(namespacedKey('nines', 'compute', 2, 'primes:limit=10')).toBe('nines:cache:compute:v2:primes:limit=10')
  })

  it('treats malformed stored entries as absent', () => {
    expect(parseEntry(null)).toBeUndefined()
    expect(parseEntry('not json')).toBeUndefined()
    expect(parseEntry('{"value":1}')).toBeUndefined()
    expect(parseEntry(JSON.stringify(makeEntry({ a: 1 }, 5, 10, 0)))?.value).toEqual({ a: 1 })
  })
})
