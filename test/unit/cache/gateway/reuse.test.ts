import { describe, expect, it } from 'vitest'
import { requestPolicy } from '../../../../gateway/src/cache/request-policy.js'
import { isErrorStatus, reuse, servableOnError, type StoredTiming } from '../../../../gateway/src/cache/reuse.js'
import type { ResponsePolicy } from '../../../../gateway/src/cache/policy.js'

const t0 = 1_000_000
const policy = (p: Partial<ResponsePolicy> = {}): ResponsePolicy => ({ lifetimeMs: 60_000, heuristic: false, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, mustRevalidate: false, noCache: false, authorized: false, ...p })
const stored = (p: Partial<ResponsePolicy> = {}, initialAgeMs = 0): StoredTiming => ({ policy: policy(p), initialAgeMs, responseTime: t0 })
const plain = requestPolicy({})

describe('reusing a stored response (RFC 9111 §4)', () => {
  it('answers while fresh, then goes to the origin (§4.2)', () => {
    expect(reuse(stored(), plain, t0 + 59_999)).toBe('fresh')
    expect(reuse(stored(), plain, t0 + 60_000)).toBe('fetch')
    expect(reuse(stored({ etag: '"a"' }), plain, t0 + 60_000)).toBe('revalidate')
    expect(reuse(stored({ lastModified: 'Wed, 01 Jan 2020 00:00:00 GMT' }), plain, t0 + 60_000)).toBe('revalidate')
  })

  it('counts the age the response had when it arrived (freshness-max-age-age)', () => {
    expect(reuse(stored({}, 7_200_000), plain, t0)).toBe('fetch')
    expect(reuse(stored({}, 30_000), plain, t0 + 29_000)).toBe('fresh')
    expect(reuse(stored({}, 30_000), plain, t0 + 30_000)).toBe('fetch')
  })

  it('revalidates no-cache responses before every use (§5.2.2.4)', () => {
    expect(reuse(stored({ noCache: true, etag: '"a"' }), plain, t0)).toBe('revalidate')
    expect(reuse(stored({ noCache: true }), plain, t0)).toBe('fetch')
  })

  it('honours request directives (§5.2.1)', () => {
    expect(reuse(stored(), requestPolicy({ 'cache-control': 'no-cache' }), t0)).toBe('fetch')
    expect(reuse(stored(), requestPolicy({ pragma: 'no-cache' }), t0)).toBe('fetch') // Pragma without Cache-Control (§5.4)
    expect(reuse(stored(), requestPolicy({ pragma: 'no-cache', 'cache-control': 'x' }), t0)).toBe('fresh')
    expect(reuse(stored(), requestPolicy({ 'cache-control': 'max-age=0' }), t0 + 1)).toBe('fetch')
    expect(reuse(stored({}, 1_800_000), requestPolicy({ 'cache-control': 'max-age=600' }), t0)).toBe('fetch') // ccreq-magreaterage
    expect(reuse(stored({ lifetimeMs: 1_500_000 }), requestPolicy({ 'cache-control': 'min-fresh=2000' }), t0)).toBe('fetch') // ccreq-min-fresh
    expect(reuse(stored({ lifetimeMs: 1_500_000 }), requestPolicy({ 'cache-control': 'min-fresh=100' }), t0)).toBe('fresh')
    expect(reuse(stored({ lifetimeMs: 1_000 }), requestPolicy({ 'cache-control': 'max-stale=1000' }), t0 + 5_000)).toBe('stale-ok') // ccreq-max-stale
    expect(reuse(stored({ lifetimeMs: 1_000 }), requestPolicy({ 'cache-control': 'max-stale' }), t0 + 999_999)).toBe('stale-ok')
    expect(reuse(stored({ lifetimeMs: 1_000, mustRevalidate: true }), requestPolicy({ 'cache-control': 'max-stale' }), t0 + 5_000)).toBe('fetch')
  })

  it('serves stale while revalidating within stale-while-revalidate, never after (RFC 5861 §3)', () => {
    const swr = stored({ lifetimeMs: 1_000, staleWhileRevalidateMs: 4_000, etag: '"a"' })
    expect(reuse(swr, plain, t0 + 3_000)).toBe('stale-while-revalidate')
    expect(reuse(swr, plain, t0 + 5_000)).toBe('revalidate') // stale-while-revalidate-window
    expect(reuse(stored({ lifetimeMs: 1_000, staleWhileRevalidateMs: 4_000, mustRevalidate: true }), plain, t0 + 3_000)).toBe('fetch')
  })

  it('never lets a request with Authorization use a response that did not allow it (§3.5)', () => {
    const auth = requestPolicy({ authorization: 'Bearer x' })
    expect(reuse(stored(), auth, t0)).toBe('bypass')
    expect(reuse(stored({ authorized: true }), auth, t0)).toBe('fresh')
  })
})

describe('stale on error (RFC 5861 §4, RFC 9111 §4.2.4)', () => {
  it('stands in for a failed origin within the stale-if-error window', () => {
    const sie = stored({ lifetimeMs: 1_000, staleIfErrorMs: 10_000 })
    expect(servableOnError(sie, plain, t0 + 5_000)).toBe(true)
    expect(servableOnError(sie, plain, t0 + 11_000)).toBe(false)
    expect(servableOnError(stored({ lifetimeMs: 1_000 }), plain, t0 + 2_000)).toBe(false)
    expect(servableOnError(stored({ lifetimeMs: 1_000 }), requestPolicy({ 'cache-control': 'stale-if-error=60' }), t0 + 2_000)).toBe(true)
  })

  it('never when the origin demanded validation (stale-close-must-revalidate, -proxy-revalidate, -no-cache, -s-maxage)', () => {
    expect(servableOnError(stored({ lifetimeMs: 1_000, staleIfErrorMs: 10_000, mustRevalidate: true }), plain, t0 + 2_000)).toBe(false)
    expect(servableOnError(stored({ lifetimeMs: 1_000, staleIfErrorMs: 10_000, noCache: true }), plain, t0 + 2_000)).toBe(false)
  })

  it('counts 500, 502, 503 and 504 as errors', () => {
    expect([500, 501, 502, 503, 504, 404, 200].filter(isErrorStatus)).toEqual([500, 502, 503, 504])
  })
})

describe('request directives (RFC 9111 §5.2.1)', () => {
  it('gives one shared answer to a request with none of the fields', () => {
    expect(requestPolicy({ accept: '*/*' })).toBe(requestPolicy({}))
  })

  it('parses every directive', () => {
    expect(requestPolicy({ 'cache-control': 'no-store, only-if-cached, max-age=5, min-fresh=2, max-stale=3, stale-if-error=4', authorization: 'x', range: 'bytes=0-1', 'if-match': '"a"' })).toEqual({
      noCache: false, noStore: true, onlyIfCached: true, maxAgeMs: 5_000, minFreshMs: 2_000, maxStaleMs: 3_000, staleIfErrorMs: 4_000, authorization: true, preconditions: true, range: true
    })
  })
})
