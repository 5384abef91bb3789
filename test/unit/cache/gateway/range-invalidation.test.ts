import { describe, expect, it } from 'vitest'
import { invalidatedPaths, isUnsafe } from '../../../../gateway/src/cache/invalidation.js'
import { contentRange, ifRangeHolds, parseRange } from '../../../../gateway/src/cache/range.js'

describe('ranges from a stored complete response (RFC 9110 §14)', () => {
  it.each<[string, { start: number, end: number } | undefined]>([
    ['bytes=0-1', { start: 0, end: 1 }], // partial-store-complete-reuse-partial
    ['bytes=1-', { start: 1, end: 10 }], // …-no-last
    ['bytes=-1', { start: 10, end: 10 }], // …-suffix
    ['bytes=5-100', { start: 5, end: 10 }],
    ['bytes=-100', { start: 0, end: 10 }],
    ['bytes=11-', undefined], // unsatisfiable: the whole response instead
    ['bytes=3-2', undefined],
    ['bytes=-0', undefined],
    ['bytes=0-1,3-4', undefined], // several ranges: the whole response
    ['items=0-1', undefined]
  ])('%s of 11 bytes', (header, range) => {
    expect(parseRange(header, 11)).toEqual(range)
  })

  it('applies If-Range only while it names the stored response (§13.1.5)', () => {
    const lm = 'Wed, 01 Jan 2020 00:00:00 GMT'
    expect(ifRangeHolds(undefined, {})).toBe(true)
    expect(ifRangeHolds('"a"', { etag: '"a"' })).toBe(true)
    expect(ifRangeHolds('"a"', { etag: 'W/"a"' })).toBe(false)
    expect(ifRangeHolds('"b"', { etag: '"a"' })).toBe(false)
    expect(ifRangeHolds(lm, { lastModified: lm })).toBe(true)
    expect(ifRangeHolds(lm, {})).toBe(false)
    expect(contentRange({ start: 0, end: 1 }, 11)).toBe('bytes 0-1/11')
  })
})

describe('invalidation by unsafe methods (RFC 9111 §4.4)', () => {
  it('treats every method but GET, HEAD, OPTIONS and TRACE as unsafe', () => {
    expect(['POST', 'PUT', 'DELETE', 'PATCH', 'M-SEARCH', 'GET', 'HEAD', 'OPTIONS', 'TRACE'].filter(isUnsafe)).toEqual(['POST', 'PUT', 'DELETE', 'PATCH', 'M-SEARCH'])
  })

  it('invalidates the target and the Location and Content-Location it names, on a 2xx or 3xx', () => {
    expect(invalidatedPaths('/test/u?x=1', 201, { location: '/test/u/location_target', 'content-location': 'content_location_target' }, 'gw:8080'))
      .toEqual(['/test/u?x=1', '/test/u/location_target', '/test/content_location_target'])
    expect(invalidatedPaths('/a', 303, {}, undefined)).toEqual(['/a'])
  })

  it('never on an error (invalidate-*-failed)', () => {
    expect(invalidatedPaths('/a', 500, { location: '/b' }, undefined)).toEqual([])
    expect(invalidatedPaths('/a', 404, {}, undefined)).toEqual([])
  })

  it('never for another origin', () => {
    expect(invalidatedPaths('/a', 200, { location: 'http://elsewhere.example/b' }, 'gw:8080')).toEqual(['/a'])
    expect(invalidatedPaths('/a', 200, { location: 'http://gw:8080/b' }, 'gw:8080')).toEqual(['/a', '/b'])
    expect(invalidatedPaths('/a', 200, { location: 'http://[bad' }, 'gw:8080')).toEqual(['/a'])
  })
})
