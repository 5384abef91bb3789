import { describe, expect, it } from 'vitest'
import { atLeastAsUpToDate } from '../../../shared/src/lease/rules.js'

describe('the election rule\'s log order', () => {
  it.each([
    [{ epoch: 2, index: 1 }, { epoch: 1, index: 9 }, true],
    [{ epoch: 1, index: 9 }, { epoch: 2, index: 1 }, false],
    [{ epoch: 2, index: 5 }, { epoch: 2, index: 5 }, true],
    [{ epoch: 2, index: 4 }, { epoch: 2, index: 5 }, false]
  ])('%j is at least as up to date as %j: %s', (a, b, expected) => {
    expect(atLeastAsUpToDate(a, b)).toBe(expected)
  })
})
