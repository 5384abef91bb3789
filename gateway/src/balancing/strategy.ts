import type { Capacity } from './saturation.js'

/** What a strategy may look at: a snapshot of one upstream, never its socket. */
export interface Candidate {
  readonly id: string
  /** Requests sent and not yet answered. */
  readonly inflight: number
  /** Exponentially weighted response time in ms; 0 when nothing is known yet. */
  readonly ewmaMs: number
  /** The worker pool the instance publishes (CPU-bound services); undefined when it publishes none. */
  readonly capacity?: Capacity | undefined
}

/**
 * A load-balancing strategy is pure selection over the candidates the shell hands it (already
 * healthy and not ejected, never empty or single: the shell short-circuits those).
 */
export interface Strategy {
  readonly name: string
  select: <C extends Candidate>(candidates: readonly C[]) => C | undefined
}

export type Random = () => number

/** Two distinct indexes drawn uniformly: the "power of two choices". */
export function twoDistinct (length: number, random: Random): [number, number] {
  const a = Math.floor(random() * length)
  const b = (a + 1 + Math.floor(random() * (length - 1))) % length
  return [a, b]
}

/**
 * Draw two distinct candidates at random and keep the one with the lower score (the first on a
 * tie). `score` may look at the other candidate, e.g. to stand in for a missing measurement.
 */
export function PowerOfTwoChoices (name: string, score: (c: Candidate, other: Candidate) => number, random: Random): Strategy {
  return {
    name,
    select: <C extends Candidate>(candidates: readonly C[]) => {
      if (candidates.length < 2) return candidates[0]
      const [i, j] = twoDistinct(candidates.length, random)
      const a = candidates[i] as C
      const b = candidates[j] as C
      return score(a, b) <= score(b, a) ? a : b
    }
  }
}
