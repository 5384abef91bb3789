import { describe, expect, it } from 'vitest'
import { cacheKey, isStorable, responsePolicy, retentionMs, storedFields, type HeaderMap, type PolicyOptions } from '../../../../gateway/src/cache/policy.js'
import { formatHttpDate } from '../../../../gateway/src/cache/http-date.js'

const now = Date.UTC(2026, 10, 28, 12)
const date = (offsetS: number): string => formatHttpDate(now + offsetS * 1_000)
const options: PolicyOptions = { maxTtlMs: 300_000, maxStaleMs: 3_600_000, defaultStaleIfErrorMs: 0 }
const lifetime = (headers: HeaderMap, status = 200, opts = options): number => responsePolicy(status, headers, now, opts).lifetimeMs
const plainRequest = { authorization: false, range: false, noStore: false }
const storable = (headers: HeaderMap, status = 200, ctx = plainRequest): boolean => isStorable(status, headers, responsePolicy(status, headers, now, options), ctx)

describe('freshness lifetime (RFC 9111 §4.2.1)', () => {
  it.each<[string, HeaderMap, number]>([
    ['max-age', { 'cache-control': 'max-age=60' }, 60_000],
    ['s-maxage over max-age for a shared cache (§5.2.2.10)', { 'cache-control': 'max-age=60, s-maxage=5' }, 5_000],
    ['s-maxage over a shorter max-age', { 'cache-control': 'max-age=1, s-maxage=30' }, 30_000],
    ['s-maxage over max-age=0 and a past Expires', { 'cache-control': 'max-age=0, s-maxage=30', expires: date(-10), date: date(0) }, 30_000],
    ['max-age over Expires', { 'cache-control': 'max-age=60', expires: date(-7200), date: date(0) }, 60_000],
    ['max-age over an invalid Expires', { 'cache-control': 'max-age=60', expires: '0', date: date(0) }, 60_000],
    ['max-age=0 with a future Expires', { 'cache-control': 'max-age=0', expires: date(3600), date: date(0) }, 0],
    ['Expires − Date', { expires: date(30), date: date(0) }, 30_000],
    ['Expires − Date when Date is slow', { expires: date(20), date: date(-10) }, 30_000],
    ['Expires older than Date', { expires: date(300), date: date(400) }, 0],
    ['Expires equal to Date', { expires: date(0), date: date(0) }, 0],
    ['Expires with an invalid Date: the receipt time stands in', { expires: date(10), date: 'foo' }, 10_000],
    ['an invalid Expires means already expired', { expires: '0', date: date(0), 'last-modified': date(-100_000) }, 0],
    ['a negative max-age is invalid: stale', { 'cache-control': 'max-age=-3600' }, 0],
    ['an invalid max-age is not replaced by heuristics', { 'cache-control': 'max-age=abc', 'last-modified': date(-100_000), date: date(0) }, 0],
    ['capped by GW_CACHE_MAX_TTL_MS', { 'cache-control': 'max-age=2147483648' }, 300_000]
  ])('%s', (_name, headers, ms) => {
    expect(lifetime(headers)).toBe(ms)
  })

  it('bounds how long a response stays fresh here by GW_CACHE_MAX_TTL_MS, counted from its arrival (age-parse-dup-old)', () => {
    const aged = (cc: string, initialAgeMs: number): number => responsePolicy(200, { 'cache-control': cc }, now, options, initialAgeMs).lifetimeMs
    expect(aged('max-age=10000', 3_600_000)).toBe(3_900_000) // an hour old on arrival: fresh 300 s more
    expect(aged('max-age=10000', 0)).toBe(300_000)
    expect(aged('max-age=3600', 7_200_000)).toBe(3_600_000) // older than its lifetime: stays stale (freshness-max-age-age)
    expect(aged('max-age=60', 30_000)).toBe(60_000) // under the bound: the origin's lifetime
  })

  it('CDN-Cache-Control replaces Cache-Control and Expires (RFC 9213 §2.1)', () => {
    expect(lifetime({ 'cache-control': 'max-age=1', 'cdn-cache-control': 'max-age=60' })).toBe(60_000) // cdn-max-age-short-cc-max-age
    expect(lifetime({ 'cache-control': 'max-age=3600', 'cdn-cache-control': 'max-age=1' })).toBe(1_000) // cdn-max-age-long-cc-max-age
    expect(lifetime({ 'cdn-cache-control': 'max-age=60', expires: date(-10_000), date: date(0) })).toBe(60_000) // cdn-max-age-expires
    expect(lifetime({ 'cdn-cache-control': 'max-age=0', expires: date(10_000), date: date(0) })).toBe(0) // cdn-max-age-0-expires
    // an invalid field is ignored: Cache-Control governs
    expect(lifetime({ 'cache-control': 'max-age=1', 'cdn-cache-control': 'max-age =100' })).toBe(1_000)
  })
})

describe('heuristic freshness (RFC 9111 §4.2.2)', () => {
  const lm = { 'last-modified': date(-24 * 3600), date: date(0) }
  it('is 10 % of the time since Last-Modified, for heuristically cacheable statuses', () => {
    for (const status of [200, 203, 204, 404, 405, 410, 414, 501]) expect(lifetime(lm, status, { ...options, maxTtlMs: 86_400_000 })).toBe(8_640_000)
  })

  it('is never applied to other statuses unless the response is public', () => {
    for (const status of [201, 202, 403, 502, 503, 504, 599]) expect(lifetime(lm, status)).toBe(0)
    expect(lifetime({ ...lm, 'cache-control': 'public' }, 599)).toBeGreaterThan(0) // heuristic-599-cached with public
  })

  it('needs a Last-Modified before Date, and is never explicit freshness', () => {
    expect(lifetime({ date: date(0) })).toBe(0)
    expect(lifetime({ 'last-modified': date(10), date: date(0) })).toBe(0)
    expect(responsePolicy(200, lm, now, options).heuristic).toBe(true)
    expect(lifetime({ ...lm, expires: date(-5000) })).toBe(0) // status-*-stale: Expires in the past is explicit
  })
})

describe('storing responses (RFC 9111 §3)', () => {
  it.each<[string, HeaderMap, number]>([
    ['max-age', { 'cache-control': 'max-age=60' }, 200],
    ['s-maxage', { 'cache-control': 's-maxage=60' }, 200],
    ['Expires', { expires: date(60), date: date(0) }, 200],
    ['a 404 with explicit freshness', { 'cache-control': 'max-age=60' }, 404],
    ['a 302 with explicit freshness', { 'cache-control': 'max-age=60' }, 302],
    ['an unknown status with explicit freshness', { 'cache-control': 'max-age=60' }, 599],
    ['a heuristically fresh 200', { 'last-modified': date(-100_000), date: date(0) }, 200],
    ['a response only with a validator, to revalidate', { etag: '"a"' }, 200],
    ['no-store with must-understand and an understood status (§5.2.2.3)', { 'cache-control': 'max-age=60, no-store, must-understand' }, 200],
    ['Set-Cookie (stored like every field, §3.1)', { 'cache-control': 'max-age=60', 'set-cookie': 'a=b' }, 200],
    ['a qualified private (only the named fields are dropped)', { 'cache-control': 'private="x", max-age=60' }, 200],
    ['CDN-Cache-Control max-age even with Cache-Control: no-store', { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' }, 200]
  ])('stores %s', (_name, headers, status) => {
    expect(storable(headers, status)).toBe(true)
  })

  it.each<[string, HeaderMap, number]>([
    ['no-store', { 'cache-control': 'max-age=60, no-store' }, 200],
    ['No-StOrE', { 'cache-control': 'No-StOrE' }, 200],
    ['private', { 'cache-control': 'private, max-age=60' }, 200],
    ['must-understand with an unknown status', { 'cache-control': 'max-age=60, no-store, must-understand' }, 599],
    ['Vary: *', { 'cache-control': 'max-age=60', vary: 'accept, *' }, 200],
    ['nothing that allows it', {}, 201],
    ['no freshness, no validator', {}, 200],
    ['a 206', { 'cache-control': 'max-age=60' }, 206],
    ['a 304', { 'cache-control': 'max-age=60' }, 304],
    ['a 1xx', { 'cache-control': 'max-age=60' }, 103],
    ['CDN-Cache-Control no-store even with Cache-Control max-age', { 'cache-control': 'max-age=60', 'cdn-cache-control': 'no-store' }, 200],
    ['CDN-Cache-Control private', { 'cache-control': 'max-age=60', 'cdn-cache-control': 'private' }, 200]
  ])('never stores %s', (_name, headers, status) => {
    expect(storable(headers, status)).toBe(false)
  })

  it('stores a response to a request with Authorization only when public, s-maxage or must-revalidate (§3.5)', () => {
    const auth = { ...plainRequest, authorization: true }
    expect(storable({ 'cache-control': 'max-age=60' }, 200, auth)).toBe(false)
    for (const cc of ['max-age=60, public', 's-maxage=60', 'max-age=60, must-revalidate']) expect(storable({ 'cache-control': cc }, 200, auth)).toBe(true)
  })

  it('never stores for a range request or a request with no-store', () => {
    expect(storable({ 'cache-control': 'max-age=60' }, 200, { ...plainRequest, range: true })).toBe(false)
    expect(storable({ 'cache-control': 'max-age=60' }, 200, { ...plainRequest, noStore: true })).toBe(false)
  })

  it('keeps every field but hop-by-hop, proxy and per-exchange ones, and those a qualified no-cache / private names (§3.1)', () => {
    expect(storedFields({
      'cache-control': 'no-cache="a", private="b", max-age=60',
      a: '1',
      b: '2',
      c: '3',
      'set-cookie': ['x=1', 'y=2'],
      connection: 'close',
      'keep-alive': 'timeout=5',
      'proxy-authenticate': 'x',
      'proxy-authentication-info': 'x',
      'transfer-encoding': 'chunked',
      upgrade: 'h2c',
      'content-length': '10',
      age: '5',
      'x-request-id': 'r',
      date: date(0)
    })).toEqual({ 'cache-control': 'no-cache="a", private="b", max-age=60', c: '3', 'set-cookie': ['x=1', 'y=2'], date: date(0) })
  })
})

describe('directives that shape reuse', () => {
  it('reads must-revalidate, proxy-revalidate and s-maxage as "never stale" (§5.2.2.2, .8, .10)', () => {
    for (const cc of ['max-age=1, must-revalidate', 'max-age=1, proxy-revalidate', 's-maxage=1']) expect(responsePolicy(200, { 'cache-control': cc }, now, options).mustRevalidate).toBe(true)
    expect(responsePolicy(200, { 'cache-control': 'max-age=1' }, now, options).mustRevalidate).toBe(false)
  })

  it('reads an unqualified no-cache as "always revalidate" (§5.2.2.4)', () => {
    expect(responsePolicy(200, { 'cache-control': 'max-age=60, No-CaChE' }, now, options).noCache).toBe(true)
    expect(responsePolicy(200, { 'cache-control': 'max-age=60, no-cache="a"' }, now, options).noCache).toBe(false)
  })

  it('takes stale windows from the origin (RFC 5861) or the service default, capped', () => {
    const p = responsePolicy(200, { 'cache-control': 'max-age=1, stale-while-revalidate=30, stale-if-error=60' }, now, options)
    expect([p.staleWhileRevalidateMs, p.staleIfErrorMs]).toEqual([30_000, 60_000])
    expect(responsePolicy(200, { 'cache-control': 'max-age=1' }, now, { ...options, defaultStaleIfErrorMs: 300_000 }).staleIfErrorMs).toBe(300_000)
    expect(responsePolicy(200, { 'cache-control': 'max-age=1, stale-if-error=99999' }, now, { ...options, maxStaleMs: 5_000 }).staleIfErrorMs).toBe(5_000)
  })

  it('keeps an entry for its lifetime plus its stale windows, or a while to revalidate it', () => {
    const keep = (cc: string, extra: HeaderMap = {}): number => retentionMs(responsePolicy(200, { 'cache-control': cc, ...extra }, now, options), options)
    expect(keep('max-age=60')).toBe(60_000)
    expect(keep('max-age=60, stale-if-error=600')).toBe(660_000)
    expect(keep('max-age=60, must-revalidate, stale-if-error=600')).toBe(60_000)
    expect(keep('max-age=60', { etag: '"x"' })).toBe(360_000)
  })

  it('keeps an entry that arrived aged only for what is left of it (RFC 5861 windows count from when it became stale)', () => {
    const keep = (cc: string, initialAgeMs: number, extra: HeaderMap = {}): number =>
      retentionMs(responsePolicy(200, { 'cache-control': cc, ...extra }, now, options, initialAgeMs), options, initialAgeMs)
    expect(keep('max-age=10000', 3_600_000)).toBe(300_000)
    expect(keep('max-age=60, stale-if-error=600', 30_000)).toBe(630_000)
    expect(keep('max-age=3600', 7_200_000, { etag: '"x"' })).toBe(300_000) // arrived stale: a while to revalidate it
    expect(keep('max-age=60, stale-if-error=600', 7_200_000)).toBe(1) // arrived past its stale window: not kept
  })
})

describe('cache key', () => {
  it('sorts query pairs but never merges different queries', () => {
    expect(cacheKey('compute', '/primes?b=2&a=1')).toBe(cacheKey('compute', '/primes?a=1&b=2'))
    expect(cacheKey('compute', '/primes?a=1')).not.toBe(cacheKey('compute', '/primes?a=01'))
    expect(cacheKey('compute', '/primes?a=1')).not.toBe(cacheKey('compute', '/primes?a=1&a=2'))
    expect(cacheKey('compute', '/primes?')).toBe(cacheKey('compute', '/primes'))
    expect(cacheKey('compute', '/x')).not.toBe(cacheKey('echo', '/x'))
  })
})
