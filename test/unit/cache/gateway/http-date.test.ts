import { describe, expect, it } from 'vitest'
import { formatHttpDate, parseHttpDate } from '../../../../gateway/src/cache/http-date.js'

const now = Date.UTC(2026, 10, 28)
const aug18 = Date.UTC(2050, 7, 18, 2, 1, 18)

describe('HTTP-date (RFC 9110 §5.6.7)', () => {
  it.each([
    ['Thu, 18 Aug 2050 02:01:18 GMT', aug18], // IMF-fixdate
    ['THU, 18 Aug 2050 02:01:18 GMT', aug18], // freshness-expires-wrong-case-weekday
    ['Thu, 18 AUG 2050 02:01:18 GMT', aug18], // …-month
    ['Thu, 18 Aug 2050 02:01:18 gMT', aug18], // …-tz
    ['Thursday, 18-Aug-50 02:01:18 GMT', aug18], // obsolete RFC 850 form, two-digit year
    ['Thu Aug 18 02:01:18 2050', aug18], // asctime
    ['Thu Aug  8 02:01:18 2050', Date.UTC(2050, 7, 8, 2, 1, 18)], // asctime, one-digit day padded
    ['Tue, 19 Jan 2038 14:14:08 GMT', Date.UTC(2038, 0, 19, 14, 14, 8)], // freshness-expires-32bit
    ['Sun, 21 Nov 2286 04:46:39 GMT', Date.UTC(2286, 10, 21, 4, 46, 39)] // freshness-expires-far-future
  ])('%s', (text, expected) => {
    expect(parseHttpDate(text, now)).toBe(expected)
  })

  it.each([
    'Thu, 18 Aug 2050 02:01:18 UTC', // freshness-expires-invalid-utc
    'Thu, 18 Aug 2050 02:01:18 AEST', // …-aest
    'Thu, 18 Aug 50 02:01:18 GMT', // …-2-digit-year
    'Thu 18 Aug 2050 02:01:18 GMT', // …-no-comma
    'Thu, 18  Aug  2050 02:01:18 GMT', // …-multiple-spaces
    'Thu, 18-Aug-2050 02:01:18 GMT', // …-date-dashes
    'Thu, 18 Aug 2050 02.01.18 GMT', // …-time-periods
    'Thu, 18 Aug 2050 2:01:18 GMT', // …-1-digit-hour
    'Thu, 18 Aug 2050 25:01:18 GMT',
    '0', // freshness-expires-invalid
    'foo'
  ])('rejects %j', (text) => {
    expect(parseHttpDate(text, now)).toBeUndefined()
  })

  it('rejects several field lines (freshness-expires-invalid-multiple-lines)', () => {
    expect(parseHttpDate(['Thu, 18 Aug 2050 02:01:18 GMT', 'Thu, 18 Aug 2050 02:01:19 GMT'], now)).toBeUndefined()
  })

  it('places an RFC 850 year more than 50 years ahead in the past century', () => {
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37))
  })

  it('formats an IMF-fixdate that parses back', () => {
    expect(parseHttpDate(formatHttpDate(aug18), now)).toBe(aug18)
  })
})
