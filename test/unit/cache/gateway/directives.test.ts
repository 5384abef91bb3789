import { describe, expect, it } from 'vitest'
import { deltaSeconds, fieldNames, parseCacheControl, parseCdnCacheControl } from '../../../../gateway/src/cache/directives.js'

const cc = (header: string | string[]): Record<string, string> => Object.fromEntries(parseCacheControl(header))

describe('Cache-Control parsing (RFC 9111 §5.2, RFC 9110 §5.6)', () => {
  it.each<[string | string[], Record<string, string>]>([
    ['public, max-age=60', { public: '', 'max-age': '60' }],
    ['MaX-aGe=3600', { 'max-age': '3600' }], // freshness-max-age-case-insenstive: names are case-insensitive
    ['foobar, max-age=3600', { foobar: '', 'max-age': '3600' }], // extensions are ignored, not fatal (§5.2.3)
    [['max-age=3600', 's-maxage=1'], { 'max-age': '3600', 's-maxage': '1' }], // several field lines are one list
    ['max-age=1800, max-age=1', { 'max-age': '1800' }], // the first occurrence wins (§4.2.1)
    ['max-age="3600"', { 'max-age': '3600' }], // quoted argument
    ['extension="max-age=3600", max-age=1', { extension: 'max-age=3600', 'max-age': '1' }], // freshness-max-age-ignore-quoted
    ['max-age=1, extension="max-age=3600"', { 'max-age': '1', extension: 'max-age=3600' }], // freshness-max-age-ignore-quoted-rev
    ['no-cache="a, b", max-age=5', { 'no-cache': 'a, b', 'max-age': '5' }],
    ['max-age =3600', { 'max-age': '=3600' }], // space before '=' is not the syntax: unusable
    ['max-age= 3600', { 'max-age': ' 3600' }], // space after '=' likewise
    ["max-age='3600'", { 'max-age': "'3600'" }], // single quotes are not quotes
    ['', {}]
  ])('%j → %j', (header, expected) => {
    expect(cc(header)).toEqual(expected)
  })

  it('reads delta-seconds strictly and caps them at 2^31 (§1.2.2)', () => {
    expect(deltaSeconds('003600')).toBe(3600) // freshness-max-age-leading-zero
    expect(deltaSeconds('2147483648')).toBe(2147483648)
    expect(deltaSeconds('99999999999')).toBe(2147483648)
    for (const bad of ['-3600', '3600.0', 'a3600', '3600a', ' 3600', "'3600'", '', undefined]) expect(deltaSeconds(bad)).toBeUndefined()
  })

  it('lists the field names of a qualified no-cache / private', () => {
    expect(fieldNames('a, B')).toEqual(['a', 'b'])
    expect(fieldNames('')).toEqual([])
  })
})

describe('CDN-Cache-Control parsing (RFC 9213, a Structured Fields dictionary)', () => {
  it('reads a valid field', () => {
    expect(Object.fromEntries(parseCdnCacheControl('max-age=3600, foobar') ?? [])).toEqual({ 'max-age': '3600', foobar: '' })
    expect(Object.fromEntries(parseCdnCacheControl('private') ?? [])).toEqual({ private: '' })
    expect(parseCdnCacheControl('max-age=99999999999')?.get('max-age')).toBe('2147483648')
  })

  it.each(['max-age =100', 'max-age= 100', 'max-age=10000, &&&&&', 'max-age="10000"', 'max-age=-1', 'max-age=1.5', '', '  '])('ignores the invalid field %j (§2.1)', (header) => {
    expect(parseCdnCacheControl(header)).toBeUndefined()
  })

  it('ignores an absent field', () => {
    expect(parseCdnCacheControl(undefined)).toBeUndefined()
  })
})
