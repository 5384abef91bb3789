import { twoDistinct, type Candidate, type Random, type Strategy } from './strategy.js'

/**
 * Least outstanding requests with the power of two choices: draw two at random and take the
 * one with fewer requests in flight. Nearly as good as scanning all, without herding onto the
 * one momentarily idle instance (Mitzenmacher; Envoy's LEAST_REQUEST default).
 */
export function LeastOutstandingStrategy ({ random = Math.random }: { random?: Random } = {}): Strategy {
  return {
    name: 'least-outstanding',
    select: <C extends Candidate>(candidates: readonly C[]) => {
      if (candidates.length < 2) return candidates[0]
      const [i, j] = twoDistinct(candidates.length, random)
      const a = candidates[i] as C
      const b = candidates[j] as C
      if (a.inflight !== b.inflight) return a.inflight < b.inflight ? a : b
      return a.ewmaMs <= b.ewmaMs ? a : b
    }
  }
}
