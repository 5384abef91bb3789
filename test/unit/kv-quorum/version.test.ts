import { describe, expect, it } from 'vitest'
import { compareVersions, formatVersion, isNewer, isVersion, parseVersion, type Version } from '../../../services/kv-quorum/src/core/version.js'

describe('version order (last writer wins)', () => {
  const v = (t: number, c: number, n: string): Version => ({ t, c, n })

  it('orders by time, then counter, then instance id', () => {
    expect(compareVersions(v(2, 0, 'a'), v(1, 9, 'z'))).toBeGreaterThan(0)
    expect(compareVersions(v(1, 2, 'a'), v(1, 1, 'z'))).toBeGreaterThan(0)
    expect(compareVersions(v(1, 1, 'b'), v(1, 1, 'a'))).toBeGreaterThan(0)
    expect(compareVersions(v(1, 1, 'a'), v(1, 1, 'a'))).toBe(0)
  })

  it('is a total order: every replica sorting the same versions picks the same winner', () => {
    const versions = [v(3, 0, 'b'), v(3, 0, 'a'), v(1, 5, 'c'), v(3, 1, 'a'), v(2, 0, 'z')]
    const sorted = [...versions].sort(compareVersions)
    const reversed = [...versions].reverse().sort(compareVersions)
    expect(sorted).toEqual(reversed)
    expect(sorted.at(-1)).toEqual(v(3, 1, 'a'))
  })

  it('treats no version as older than any', () => {
    expect(isNewer(v(0, 0, 'a'), undefined)).toBe(true)
    expect(isNewer(undefined, v(0, 0, 'a'))).toBe(false)
  })

  it('formats and parses back', () => {
    const x = v(1764059400123, 7, 'kv-quorum-2')
    expect(formatVersion(x)).toBe('1764059400123.7.kv-quorum-2')
    expect(parseVersion(formatVersion(x))).toEqual(x)
    expect(parseVersion('nope')).toBeUndefined()
  })

  it.each([
    [{ t: 1, c: 0, n: 'a' }, true],
    [{ t: -1, c: 0, n: 'a' }, false],
    [{ t: 1.5, c: 0, n: 'a' }, false],
    [{ t: 1, c: 0, n: '' }, false],
    [{ t: 1, c: 0, n: 'a b' }, false],
    [null, false],
    ['1.0.a', false]
  ])('isVersion(%j) → %s', (input, ok) => {
    expect(isVersion(input)).toBe(ok)
  })
})
