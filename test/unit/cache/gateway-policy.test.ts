import { describe, expect, it } from 'vitest'
import { cacheKey, directives, requestBypasses, storableTtlMs, varyMatches, varyNames, varyValues } from '../../../gateway/src/cache/policy.js'

describe('gateway cache policy', () => {
  it.each([
    [{ 'cache-control': 'public, max-age=60' }, 60_000],
    [{ 'cache-control': 'max-age=60, s-maxage=5' }, 5_000],
    [{ 'cache-control': 'max-age=10', age: '4' }, 6_000],
    [{ 'cache-control': 'max-age=10', age: '12' }, 0],
    [{ 'cache-control': 'max-age=100000' }, 300_000],
    [{ 'cache-control': 'no-store, max-age=60' }, 0],
    [{ 'cache-control': 'private, max-age=60' }, 0],
    [{ 'cache-control': 'no-cache, max-age=60' }, 0],
    [{ 'cache-control': 'max-age=abc' }, 0],
    [{}, 0],
    [{ 'cache-control': 'max-age=60', 'set-cookie': 'a=b' }, 0],
    [{ 'cache-control': 'max-age=60', vary: '*' }, 0]
  ])('response headers %j → ttl %i ms', (headers, ttl) => {
    expect(storableTtlMs(200, headers, 300_000)).toBe(ttl)
  })

  it('keeps only 200s', () => {
    expect(storableTtlMs(404, { 'cache-control': 'max-age=60' }, 300_000)).toBe(0)
    expect(storableTtlMs(503, { 'cache-control': 'max-age=60' }, 300_000)).toBe(0)
  })

  it('lets requests with credentials or no-cache bypass, and anything but GET', () => {
    expect(requestBypasses('GET', {})).toBe(false)
    expect(requestBypasses('HEAD', {})).toBe(true)
    expect(requestBypasses('POST', {})).toBe(true)
    expect(requestBypasses('GET', { authorization: 'Bearer x' })).toBe(true)
    expect(requestBypasses('GET', { 'cache-control': 'no-cache' })).toBe(true)
    expect(requestBypasses('GET', { 'cache-control': 'no-store' })).toBe(true)
    expect(requestBypasses('GET', { pragma: 'no-cache' })).toBe(true)
    expect(requestBypasses('GET', { 'cache-control': 'max-age=0' })).toBe(true)
    expect(requestBypasses('GET', { 'cache-control': 'max-age=10' })).toBe(false)
  })

  it('sorts query pairs but never merges different queries', () => {
    expect(cacheKey('compute', '/primes?b=2&a=1')).toBe(cacheKey('compute', '/primes?a=1&b=2'))
    expect(cacheKey('compute', '/primes?a=1')).not.toBe(cacheKey('compute', '/primes?a=01'))
    expect(cacheKey('compute', '/primes?a=1')).not.toBe(cacheKey('compute', '/primes?a=1&a=2'))
    expect(cacheKey('compute', '/primes?')).toBe(cacheKey('compute', '/primes'))
    expect(cacheKey('compute', '/x')).not.toBe(cacheKey('echo', '/x'))
  })

  it('parses Vary and matches variants', () => {
    expect(varyNames({ vary: 'Accept-Encoding, accept-language' })).toEqual(['accept-encoding', 'accept-language'])
    expect(varyNames({})).toEqual([])
    expect(varyNames({ vary: 'accept, *' })).toBeUndefined()
    const stored = varyValues(['accept-language'], { 'accept-language': 'fr' })
    expect(varyMatches(stored, { 'accept-language': 'fr' })).toBe(true)
    expect(varyMatches(stored, { 'accept-language': 'de' })).toBe(false)
    expect(varyMatches(stored, {})).toBe(false)
  })

  it('parses Cache-Control directives', () => {
    expect(directives('Public, MAX-AGE="30"')).toEqual(new Map([['public', ''], ['max-age', '30']]))
  })
})
