import { describe, expect, it } from 'vitest'
import { place, variantStorageKey } from '../../../../gateway/src/cache/placement.js'
import type { StoredResponse, VaryRecord } from '../../../../gateway/src/cache/stored.js'
import { selectingValue, variantKey, varyNames } from '../../../../gateway/src/cache/vary.js'

describe('Vary (RFC 9111 §4.1)', () => {
  it('normalises the names and recognises * on any line', () => {
    expect(varyNames('Accept-Encoding, accept-language, ACCEPT-encoding')).toEqual(['accept-encoding', 'accept-language'])
    expect(varyNames(['Foo', 'Bar'])).toEqual(['bar', 'foo'])
    expect(varyNames(undefined)).toEqual([])
    for (const star of ['*', '*, *', ', *', '*, Foo', 'Foo, *', ['', '*'], ['*', '*']]) expect(varyNames(star)).toBeUndefined() // vary-syntax-*
  })

  it('normalises selecting values: joined lines, whitespace (vary-normalise-combine, -space)', () => {
    expect(selectingValue('foo', '1, 2')).toBe(selectingValue('foo', ' 1,2 '))
    expect(selectingValue('foo', ['1', '2'])).toBe(selectingValue('foo', '1, 2'))
    expect(selectingValue('foo', '1')).not.toBe(selectingValue('foo', '2'))
  })

  it('ignores the order and case of Accept-Language members (vary-normalise-lang-order, -case, -space)', () => {
    const v = selectingValue('accept-language', 'en, de')
    expect(selectingValue('accept-language', 'de, en')).toBe(v)
    expect(selectingValue('accept-language', 'eN, De')).toBe(v)
    expect(selectingValue('accept-language', ' en ,   de')).toBe(v)
    expect(selectingValue('accept-language', 'en, fr')).not.toBe(v)
  })

  it('tells an absent field from an empty one (vary-omit, vary-omit-stored)', () => {
    expect(variantKey(['foo'], {})).not.toBe(variantKey(['foo'], { foo: '' }))
    expect(variantKey(['foo'], {})).not.toBe(variantKey(['foo'], { foo: '1' }))
  })

  it('selects on every named field (vary-2-no-match, vary-3-order) and only those (vary-cache-key)', () => {
    const names = ['bar', 'baz', 'foo']
    const key = variantKey(names, { foo: '1', bar: 'abc', baz: '789' })
    expect(variantKey(names, { baz: '789', foo: '1', bar: 'abc', other: 'x' })).toBe(key)
    expect(variantKey(names, { foo: '1', bar: 'abcde', baz: '789' })).not.toBe(key)
    expect(variantKey(names, { foo: '1', baz: '789' })).not.toBe(key)
  })
})

describe('placing variants side by side', () => {
  const response = (vary: string[]): StoredResponse => ({ kind: 'response', status: 200, headers: {}, body: '', vary, requestTime: 0, responseTime: 0, initialAgeMs: 0, policy: { lifetimeMs: 1, heuristic: false, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, mustRevalidate: false, noCache: false, authorized: false }, tags: [] })
  const index: VaryRecord = { kind: 'vary', names: ['foo'], generation: 'g1' }

  it('keeps a non-varying response under the URI key', () => {
    expect(place(response([]), 100, { primary: 'K', key: 'K' }, {}, 'g2', 999)).toEqual({ here: { value: response([]), ttlMs: 100 }, writes: [] })
  })

  it('turns the URI key into a VaryRecord and stores the first variant beside it', () => {
    const p = place(response(['foo']), 100, { primary: 'K', key: 'K' }, { foo: '1' }, 'g2', 999)
    expect(p.here).toEqual({ value: { kind: 'vary', names: ['foo'], generation: 'g2' }, ttlMs: 999 })
    expect(p.writes).toEqual([{ key: variantStorageKey('K', { kind: 'vary', names: ['foo'], generation: 'g2' }, { foo: '1' }), value: response(['foo']), ttlMs: 100 }])
  })

  it('adds another variant under its own key (vary-invalidate: two variants kept)', () => {
    const key2 = variantStorageKey('K', index, { foo: '2' })
    expect(key2).not.toBe(variantStorageKey('K', index, { foo: '1' }))
    expect(place(response(['foo']), 100, { primary: 'K', key: key2, index }, { foo: '2' }, 'g2', 999)).toEqual({ here: { value: response(['foo']), ttlMs: 100 }, writes: [] })
  })

  it('starts a new generation when the Vary names change, and a plain entry when they go', () => {
    const key = variantStorageKey('K', index, { foo: '1', bar: 'x' })
    const changed = place(response(['bar', 'foo']), 100, { primary: 'K', key, index }, { foo: '1', bar: 'x' }, 'g2', 999)
    expect(changed.here.ttlMs).toBe(0)
    expect(changed.writes.map((w) => w.key)).toEqual([variantStorageKey('K', { kind: 'vary', names: ['bar', 'foo'], generation: 'g2' }, { foo: '1', bar: 'x' }), 'K'])
    const gone = place(response([]), 100, { primary: 'K', key, index }, { foo: '1' }, 'g2', 999)
    expect(gone.writes).toEqual([{ key: 'K', value: response([]), ttlMs: 100 }])
  })

  it('never reaches a variant of an older generation', () => {
    expect(variantStorageKey('K', index, { foo: '1' })).not.toBe(variantStorageKey('K', { ...index, generation: 'g2' }, { foo: '1' }))
  })
})
