import { describe, expect, it } from 'vitest'
import { formatHttpDate } from '../../../../gateway/src/cache/http-date.js'
import type { PolicyOptions } from '../../../../gateway/src/cache/policy.js'
import { freshen, surrogateKeys, toStored } from '../../../../gateway/src/cache/stored.js'
import { requestPolicy } from '../../../../gateway/src/cache/request-policy.js'
import { reuse } from '../../../../gateway/src/cache/reuse.js'

const now = Date.UTC(2026, 10, 28, 12)
const options: PolicyOptions = { maxTtlMs: 300_000, maxStaleMs: 3_600_000, defaultStaleIfErrorMs: 0 }
const ctx = { authorization: false, range: false, noStore: false }
const times = { requestTime: now - 100, responseTime: now }

describe('building a stored response', () => {
  it("keeps the upstream's Date and counts its Age (bug: both used to be dropped)", () => {
    const built = toStored({ status: 200, headers: { 'cache-control': 'max-age=3600', age: '7200', date: formatHttpDate(now) }, body: Buffer.from('x') }, ctx, times, options)
    expect(built?.record.headers.date).toBe(formatHttpDate(now))
    expect(built?.record.headers.age).toBeUndefined() // recomputed on every use
    expect(built?.record.initialAgeMs).toBe(7_200_100)
  })

  it('adds Date when the upstream sent none (RFC 9110 §6.6.1)', () => {
    const built = toStored({ status: 200, headers: { 'cache-control': 'max-age=60' }, body: Buffer.alloc(0) }, ctx, times, options)
    expect(built?.record.headers.date).toBe(formatHttpDate(now))
  })

  it('records Vary names, surrogate keys and the body', () => {
    const built = toStored({ status: 200, headers: { 'cache-control': 'max-age=60', vary: 'Foo', 'surrogate-key': 'a  b a' }, body: Buffer.from('hello') }, ctx, times, options)
    expect(built?.record).toMatchObject({ vary: ['foo'], tags: ['a', 'b'], body: Buffer.from('hello').toString('base64') })
    expect(built?.retentionMs).toBe(59_900) // kept from its arrival, 100 ms old (the round trip)
  })

  it('refuses what may not be stored', () => {
    expect(toStored({ status: 200, headers: { 'cache-control': 'no-store' }, body: Buffer.alloc(0) }, ctx, times, options)).toBeUndefined()
    expect(toStored({ status: 200, headers: { 'cache-control': 'max-age=60', vary: '*' }, body: Buffer.alloc(0) }, ctx, times, options)).toBeUndefined()
  })

  it('freshens from a 304: new fields, new Date and age, new freshness (RFC 9111 §4.3.4)', () => {
    const first = toStored({ status: 200, headers: { 'cache-control': 'max-age=1', etag: '"a"', 'test-header': 'A', date: formatHttpDate(now) }, body: Buffer.from('x') }, ctx, times, options)
    if (first === undefined) throw new Error('not stored')
    const later = now + 10_000
    const { record, retentionMs } = freshen(first.record, { 'cache-control': 'max-age=60', 'test-header': 'B', date: formatHttpDate(later) }, { requestTime: later - 50, responseTime: later }, options)
    expect(record.headers).toMatchObject({ 'cache-control': 'max-age=60', 'test-header': 'B', etag: '"a"', date: formatHttpDate(later) })
    expect(record.policy.lifetimeMs).toBe(60_000)
    expect(record.initialAgeMs).toBe(50)
    expect(record.body).toBe(first.record.body)
    expect(retentionMs).toBe(359_950) // what is left of its 60 s, then GW_CACHE_MAX_TTL_MS to revalidate
  })

  it('counts an upstream Age against the lifetime, not against GW_CACHE_MAX_TTL_MS (age-parse-dup-old)', () => {
    // two `Age: 3600` lines, max-age=10000: an hour old, fresh for 6400 s more (bug: the lifetime was
    // capped at GW_CACHE_MAX_TTL_MS = 300 s before the age was counted, so it arrived stale)
    const built = toStored({ status: 200, headers: { 'cache-control': 'max-age=10000', age: ['3600', '3600'], date: formatHttpDate(now) }, body: Buffer.from('x') }, ctx, times, options)
    if (built === undefined) throw new Error('not stored')
    expect(reuse(built.record, requestPolicy({}), now + 1_000)).toBe('fresh')
    expect(reuse(built.record, requestPolicy({}), now + 300_000)).toBe('fetch') // fresh here at most GW_CACHE_MAX_TTL_MS
    expect(built.retentionMs).toBe(300_000)
  })

  it('reads surrogate keys as a space-separated list', () => {
    expect(surrogateKeys(['a b', 'c'])).toEqual(['a', 'b', 'c'])
    expect(surrogateKeys(undefined)).toEqual([])
  })
})
