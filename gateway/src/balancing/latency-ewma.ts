import { PowerOfTwoChoices, type Random, type Strategy } from './strategy.js'

/**
 * Latency-aware: power of two choices on expected wait, EWMA response time × (in flight + 1)
 * (Finagle's "peak EWMA" idea). An instance with no measurement yet scores as the fastest seen,
 * so a newcomer gets tried instead of starved.
 */
export function LatencyEwmaStrategy ({ random = Math.random }: { random?: Random } = {}): Strategy {
  return PowerOfTwoChoices('latency-ewma', (c, other) => {
    const known = c.ewmaMs > 0 ? c.ewmaMs : other.ewmaMs > 0 ? other.ewmaMs : 1
    return known * (c.inflight + 1)
  }, random)
}

/** Folds one sample into an EWMA; `alpha` is the weight of the new sample. */
export function ewma (previous: number, sampleMs: number, alpha = 0.3): number {
  return previous === 0 ? sampleMs : previous + alpha * (sampleMs - previous)
}
