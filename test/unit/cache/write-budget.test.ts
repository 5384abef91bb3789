import { describe, expect, it } from 'vitest'
import { WriteBudget } from '../../../shared/src/cache/write-budget.js'

describe('WriteBudget', () => {
  it('allows writes up to the budget, then refuses', () => {
    const b = new WriteBudget(1_000)
    expect(b.tryReserve(600, 0, 60_000)).toBe(true)
    expect(b.tryReserve(400, 0, 60_000)).toBe(true)
    expect(b.tryReserve(1, 0, 60_000)).toBe(false)
    expect(b.usedBytes).toBe(1_000)
  })

  it('gives bytes back once their entries have expired, soonest first', () => {
    const b = new WriteBudget(1_000)
    b.tryReserve(500, 0, 10_000)
    b.tryReserve(300, 0, 2_000)
    b.tryReserve(200, 0, 5_000)
    expect(b.tryReserve(300, 1_999, 1_000)).toBe(false)
    expect(b.tryReserve(300, 2_000, 1_000)).toBe(true) // the 2 s entry expired
    expect(b.usedBytes).toBe(1_000)
    expect(b.tryReserve(500, 5_000, 10_000)).toBe(true) // the 3 s and 5 s ones too
    expect(b.usedBytes).toBe(1_000)
    expect(b.tryReserve(1, 9_999, 1_000)).toBe(false)
    expect(b.tryReserve(500, 10_000, 1_000)).toBe(true)
  })

  it('refuses a single write larger than the whole budget', () => {
    expect(new WriteBudget(100).tryReserve(101, 0, 1_000)).toBe(false)
  })

  it('keeps one bucket per second, however many writes', () => {
    const b = new WriteBudget(1e12)
    for (let i = 0; i < 100_000; i++) b.tryReserve(10, i / 100, 60_000) // 1,000 s of writes
    expect(b.usedBytes).toBe(1_000_000)
    expect(b.tryReserve(1, 2_000_000, 1)).toBe(true)
    expect(b.usedBytes).toBe(1)
  })
})
