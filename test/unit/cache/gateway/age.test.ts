import { describe, expect, it } from 'vitest'
import { ageField, currentAgeMs, initialAgeMs, parseAge } from '../../../../gateway/src/cache/age.js'

describe('Age (RFC 9111 §5.1, §4.2.3)', () => {
  it.each<[string | string[] | undefined, number]>([
    ['7200', 7200],
    ['0, 7200', 0], // age-parse-prefix: the first member
    ['7200, 0', 7200], // age-parse-suffix
    [['7200', '0'], 7200], // age-parse-suffix-twoline: the first line
    [['0', '7200'], 0], // age-parse-prefix-twoline
    ['2147483649', 2147483648], // age-parse-larger: capped
    ['abc', 0], // age-parse-nonnumeric: ignored
    ['-7200', 0], // age-parse-negative: ignored
    ['7200.0', 0], // age-parse-float: ignored
    ['7200;foo=bar', 0],
    [undefined, 0]
  ])('parses %j as %i s', (value, seconds) => {
    expect(parseAge(value)).toBe(seconds)
  })

  it('takes the larger of apparent age and corrected Age + response delay', () => {
    // Date 10 s before receipt, no Age: apparent age wins
    expect(initialAgeMs({ ageS: 0, dateMs: 90_000, requestTime: 99_900, responseTime: 100_000 })).toBe(10_000)
    // Age 30 s on a fresh Date: the upstream's age plus the round trip
    expect(initialAgeMs({ ageS: 30, dateMs: 100_000, requestTime: 99_900, responseTime: 100_000 })).toBe(30_100)
    // a Date in the future never makes the age negative
    expect(initialAgeMs({ ageS: 0, dateMs: 200_000, requestTime: 100_000, responseTime: 100_000 })).toBe(0)
    // no valid Date: only Age and the delay
    expect(initialAgeMs({ ageS: 5, dateMs: undefined, requestTime: 100_000, responseTime: 100_500 })).toBe(5_500)
  })

  it('adds the time spent in this cache, and reports whole seconds', () => {
    expect(currentAgeMs(1_000, 100_000, 103_500)).toBe(4_500)
    expect(ageField(4_500)).toBe('4')
  })
})
