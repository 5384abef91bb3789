import { twoDistinct, type Candidate, type Random, type Strategy } from './strategy.js'

/**
 * Latency-aware: power of two choices on expected wait, EWMA response time × (in flight + 1)
 * (Finagle's "peak EWMA" idea). An instance with no measurement yet scores as the fastest seen,
 * so a newcomer gets tried instead of starved.
 */
export function LatencyEwmaStrategy ({ random = Math.random }: { random?: Random } = {}): Strategy {
  return {
    name: 'latency-ewma',
    select: <C extends Candidate>(candidates: readonly C[]) => {
      if (candidates.length < 2) return candidates[0]
      const [i, j] = twoDistinct(candidates.length, random)
      const a = candidates[i] as C
      const b = candidates[j] as C
      const floor = Math.min(...[a.ewmaMs, b.ewmaMs].filter((v) => v > 0), Number.MAX_VALUE)
      const score = (c: C): number => (c.ewmaMs > 0 ? c.ewmaMs : floor === Number.MAX_VALUE ? 1 : floor) * (c.inflight + 1)
      return score(a) <= score(b) ? a : b
    }
  }
}

/** Folds one sample into an EWMA; `alpha` is the weight of the new sample. */
export function ewma (previous: number, sampleMs: number, alpha = 0.3): number {
  return previous === 0 ? sampleMs : previous + alpha * (sampleMs - previous)
}
