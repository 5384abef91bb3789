import { PowerOfTwoChoices, type Random, type Strategy } from './strategy.js'

/**
 * Least outstanding requests with the power of two choices: draw two at random and take the
 * one with fewer requests in flight; a tie goes to either, at random (as Envoy's LEAST_REQUEST).
 * Nearly as good as scanning all, without herding onto the one momentarily idle instance
 * (Mitzenmacher). Ties are not broken by latency: under light load every pick is a tie, and an
 * instance a little slower once (a cold first request after a restart) would lose every one and
 * never be measured again. `latency-ewma` is the latency-aware strategy.
 */
export function LeastOutstandingStrategy ({ random = Math.random }: { random?: Random } = {}): Strategy {
  return PowerOfTwoChoices('least-outstanding', (c) => c.inflight, random)
}
