import { describe, expect, it } from 'vitest'
import { TwoTierCache } from '../../../shared/src/cache/two-tier-cache.js'

/** The cache without Redis: the local tier, single-flight and freshness rules, on a fake clock. */
function localCache (opts: { staleMs?: number } = {}): { cache: TwoTierCache<number>, clock: { now: number } } {
  const clock = { now: 1_000_000 }
  const cache = new TwoTierCache<number>({ prefix: 't', namespace: 'n', ttlMs: 100, jitter: 0, clock: () => clock.now, ...opts })
  return { cache, clock }
}

describe('TwoTierCache (local tier)', () => {
  it('misses once, then hits', async () => {
    const { cache } = localCache()
    let runs = 0
    const compute = async (): Promise<{ value: number }> => ({ value: ++runs })
    expect(await cache.wrap('k', compute)).toMatchObject({ value: 1, outcome: 'miss', tier: 'none', stored: true })
    expect(await cache.wrap('k', compute)).toMatchObject({ value: 1, outcome: 'hit', tier: 'local' })
    expect(cache.stats).toMatchObject({ hit: 1, miss: 1 })
  })

  it('coalesces concurrent misses into one computation', async () => {
    const { cache } = localCache()
    let runs = 0
    const compute = async (): Promise<{ value: number }> => { runs++; await new Promise((resolve) => setTimeout(resolve, 10)); return { value: 7 } }
    const results = await Promise.all(Array.from({ length: 20 }, async () => await cache.wrap('k', compute)))
    expect(runs).toBe(1)
    expect(results.filter((r) => r.outcome === 'miss')).toHaveLength(1)
    expect(results.filter((r) => r.outcome === 'coalesced')).toHaveLength(19)
  })

  it('recomputes after the TTL', async () => {
    const { cache, clock } = localCache()
    let runs = 0
    const compute = async (): Promise<{ value: number }> => ({ value: ++runs })
    await cache.wrap('k', compute)
    clock.now += 100
    expect(await cache.wrap('k', compute)).toMatchObject({ value: 2, outcome: 'miss' })
  })

  it('does not store a value computed with ttl 0', async () => {
    const { cache } = localCache()
    let runs = 0
    const compute = async (): Promise<{ value: number, ttlMs: number }> => ({ value: ++runs, ttlMs: 0 })
    expect(await cache.wrap('k', compute)).toMatchObject({ outcome: 'miss', stored: false })
    expect(await cache.wrap('k', compute)).toMatchObject({ value: 2, outcome: 'miss' })
  })

  it('serves stale while one caller revalidates', async () => {
    const { cache, clock } = localCache({ staleMs: 1_000 })
    let runs = 0
    const compute = async (): Promise<{ value: number }> => ({ value: ++runs })
    await cache.wrap('k', compute)
    clock.now += 150
    expect(await cache.wrap('k', compute)).toMatchObject({ value: 1, outcome: 'stale' })
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await cache.wrap('k', compute)).toMatchObject({ value: 2, outcome: 'hit' })
    expect(runs).toBe(2)
  })

  it('forgets an invalidated key (and says it could not broadcast without Redis)', async () => {
    const { cache } = localCache()
    await cache.set('k', 5)
    expect((await cache.get('k'))?.value).toBe(5)
    expect(await cache.invalidate('k')).toBe(false)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('propagates a failed computation and caches nothing', async () => {
    const { cache } = localCache()
    await expect(cache.wrap('k', async () => { throw new Error('nope') })).rejects.toThrow('nope')
    expect(await cache.get('k')).toBeUndefined()
  })
})

describe('TwoTierCache.refresh (replacing an entry the caller cannot use)', () => {
  it('recomputes once for concurrent callers, and replaces the entry', async () => {
    const clock = { now: 1_000_000 }
    const cache = new TwoTierCache<number>({ prefix: 't', namespace: 'n', ttlMs: 100_000, jitter: 0, clock: () => clock.now })
    const first = await cache.wrap('k', async () => ({ value: 1 }))
    clock.now += 10
    let runs = 0
    const compute = async (): Promise<{ value: number }> => { runs++; await new Promise((resolve) => setTimeout(resolve, 10)); return { value: 2 } }
    const results = await Promise.all(Array.from({ length: 5 }, async () => await cache.refresh('k', first.storedAt, compute)))
    expect(runs).toBe(1)
    expect(results.map((r) => r.value)).toEqual([2, 2, 2, 2, 2])
    expect(results.filter((r) => r.outcome === 'coalesced')).toHaveLength(4)
    expect(await cache.wrap('k', async () => ({ value: 9 }))).toMatchObject({ value: 2, outcome: 'hit' })
  })

  it('takes a newer entry without computing', async () => {
    const clock = { now: 1_000_000 }
    const cache = new TwoTierCache<number>({ prefix: 't', namespace: 'n', ttlMs: 100_000, jitter: 0, clock: () => clock.now })
    const first = await cache.wrap('k', async () => ({ value: 1 }))
    clock.now += 10
    await cache.set('k', 2)
    let runs = 0
    expect(await cache.refresh('k', first.storedAt, async () => ({ value: ++runs }))).toMatchObject({ value: 2, outcome: 'hit' })
    expect(runs).toBe(0)
  })

  it('keeps the old entry when the computation says not to store', async () => {
    const cache = new TwoTierCache<number>({ prefix: 't', namespace: 'n', ttlMs: 100_000, jitter: 0 })
    const first = await cache.wrap('k', async () => ({ value: 1 }))
    expect(await cache.refresh('k', first.storedAt, async () => ({ value: 2, ttlMs: 0 }))).toMatchObject({ value: 2, stored: false })
    expect(await cache.wrap('k', async () => ({ value: 9 }))).toMatchObject({ value: 1, outcome: 'hit' })
  })

  it('forgets a key locally', async () => {
    const cache = new TwoTierCache<number>({ prefix: 't', namespace: 'n', ttlMs: 100_000, jitter: 0 })
    await cache.set('k', 1)
    cache.forgetLocal('k')
    expect(await cache.get('k')).toBeUndefined()
  })
})
