import { describe, expect, it } from 'vitest'
import type { Candidate, Strategy } from '../../gateway/src/balancing/strategy.js'
import { seededRandom } from '../../shared/testing/random.js'

/** A seeded generator (the chaos schedule's mulberry32) so fairness checks are reproducible. */
export const seeded = seededRandom

export function candidates (n: number, overrides: Partial<Candidate> = {}): Candidate[] {
  return Array.from({ length: n }, (_, i) => ({ id: `c${i + 1}`, inflight: 0, ewmaMs: 0, ...overrides }))
}

/** What every strategy promises: picks only among the candidates and spreads equal ones fairly. */
export function runStrategyContract (name: string, make: (random: () => number) => Strategy): void {
  describe(`${name} (strategy contract)`, () => {
    it('never picks outside the candidates', () => {
      const strategy = make(seeded(1))
      const list = candidates(4)
      for (let i = 0; i < 1_000; i++) expect(list).toContain(strategy.select(list))
    })

    it('returns undefined for no candidates and the only one for one', () => {
      const strategy = make(seeded(2))
      expect(strategy.select([])).toBeUndefined()
      const [only] = candidates(1)
      expect(strategy.select([only!])).toBe(only)
    })

    it('is fair over many picks among equal candidates', () => {
      const strategy = make(seeded(3))
      const list = candidates(3)
      const counts = new Map<string, number>()
      const picks = 30_000
      for (let i = 0; i < picks; i++) {
        const c = strategy.select(list)!
        counts.set(c.id, (counts.get(c.id) ?? 0) + 1)
      }
      for (const c of list) expect(Math.abs((counts.get(c.id) ?? 0) / picks - 1 / 3)).toBeLessThan(0.02)
    })

    it('is deterministic for a given seed', () => {
      const list = candidates(5)
      const run = (): string[] => { const s = make(seeded(42)); return Array.from({ length: 50 }, () => s.select(list)!.id) }
      expect(run()).toEqual(run())
    })
  })
}
