import { describe, expect, it } from 'vitest'
import { downtimeAllowed, downtimeFor, downtimeTable, formatDuration, formatNines, formatPercent, measurableNines, ninesOf } from '../../../scripts/chaos/core/nines.js'

describe('nines', () => {
  it.each([
    [1, 1_000, 3], // exactly 99.9%: 3 nines despite 1 - 0.999 !== 0.001 in floating point
    [9, 100_000, 4], // 99.991%
    [5, 10_000, 3], // 99.95%
    [1, 10, 1],
    [15, 100, 0], // 85%
    [1, 1_000_000, 6],
    [100, 100, 0]
  ])('%i failed of %i is %i nines', (failed, total, nines) => {
    expect(ninesOf(failed, total)).toBe(nines)
  })

  it('counts no failure as infinitely many nines and no request as none', () => {
    expect(ninesOf(0, 10)).toBe(Infinity)
    expect(ninesOf(0, 0)).toBe(0)
  })

  it('formats the rate truncated, never rounded up to a nine it does not have', () => {
    expect(formatPercent(99_991, 100_000)).toBe('99.991%')
    expect(formatPercent(9_995, 10_000)).toBe('99.95%')
    expect(formatPercent(999_999, 1_000_000)).toBe('99.9999%')
    expect(formatPercent(2_499_999, 2_500_000)).toBe('99.99996%') // not rounded up to 100%
    expect(formatPercent(9_999_999_999, 10_000_000_000)).toBe('99.99999999%') // 10 nines: 9 decimals, no float noise
    expect(formatPercent(85, 100)).toBe('85.0%')
    expect(formatPercent(5, 5)).toBe('100%')
    expect(formatPercent(0, 0)).toBe('n/a')
  })

  it('says how many nines a run could show at all', () => {
    expect(formatNines(99_991, 100_000)).toBe('99.991% (4 nines)')
    expect(formatNines(9, 10)).toBe('90.0% (1 nine)')
    expect(formatNines(12_000, 12_000)).toBe('100% (0 of 12000 failed: ≥ 4 nines measurable)')
    expect(formatNines(0, 0)).toBe('n/a (no requests)')
    expect(measurableNines(999)).toBe(2)
    expect(measurableNines(1_000)).toBe(3)
  })

  it('turns a rate into downtime per day, month and year', () => {
    const d = downtimeAllowed(0.999)
    expect(d.perDayMs).toBeCloseTo(86_400, 3)
    expect(d.perMonthMs).toBeCloseTo(2_592_000, 3)
    expect(d.perYearMs).toBeCloseTo(31_536_000, 3)
    expect(downtimeFor(9_999, 10_000)).toEqual({ perDay: '8.64 s', perMonth: '4.32 min', perYear: '52.6 min' })
  })

  it('prints the classic downtime table', () => {
    const rows = downtimeTable(5)
    expect(rows.map((r) => r.rate)).toEqual(['90%', '99%', '99.9%', '99.99%', '99.999%'])
    expect(rows[2]).toEqual({ nines: 3, rate: '99.9%', perDay: '1.44 min', perMonth: '43.2 min', perYear: '8.76 h' })
    expect(rows[4]!.perYear).toBe('5.26 min')
  })

  it('formats durations with three significant digits', () => {
    expect(formatDuration(864)).toBe('864 ms')
    expect(formatDuration(8_640)).toBe('8.64 s')
    expect(formatDuration(2_592_000)).toBe('43.2 min')
    expect(formatDuration(31_536_000)).toBe('8.76 h')
    expect(formatDuration(3 * 86_400_000)).toBe('3 d')
  })
})
