import { describe, expect, it } from 'vitest'
import { nearestRank, percentile } from '../../../shared/src/percentile.js'

const hundred = Array.from({ length: 100 }, (_, i) => 100 - i) // 100 … 1, unsorted on purpose

describe('percentile (nearest rank)', () => {
  const five = [5, 1, 3, 2, 4]
  it.each([
    ['5,1,3,2,4', five, 0.5, 3],
    ['5,1,3,2,4', five, 0.99, 5],
    ['5,1,3,2,4', five, 0.2, 1],
    ['5,1,3,2,4', five, 0.21, 2],
    ['7', [7], 0.5, 7],
    ['100…1', hundred, 0.5, 50],
    // the floor variant (index ⌊q·n⌋) gave the largest sample here
    ['100…1', hundred, 0.99, 99],
    ['100…1', hundred, 0.999, 100],
    ['100…1', hundred, 1, 100],
    ['100…1', hundred, 0.001, 1]
  ])('%s at q=%d is %d', (_label, samples, q, expected) => {
    expect(percentile(samples, q)).toBe(expected)
  })

  it('is NaN for no samples and leaves the samples unsorted', () => {
    expect(percentile([], 0.5)).toBeNaN()
    const xs = [3, 1, 2]
    percentile(xs, 0.5)
    expect(xs).toEqual([3, 1, 2])
  })

  it('ranks from 1 to n', () => {
    expect([nearestRank(10, 0), nearestRank(10, 0.1), nearestRank(10, 0.11), nearestRank(10, 1), nearestRank(10, 2)]).toEqual([1, 1, 2, 10, 10])
  })
})
