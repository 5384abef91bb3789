import { saturationScore } from './saturation.js'
import { PowerOfTwoChoices, type Random, type Strategy } from './strategy.js'

/**
 * For CPU work on worker pools: power of two choices on outstanding requests per worker thread,
 * so a request does not queue behind a full pool while another instance has idle threads.
 * Candidates that publish no capacity count as one thread (plain least-outstanding).
 */
export function LeastSaturatedStrategy ({ random = Math.random }: { random?: Random } = {}): Strategy {
  return PowerOfTwoChoices('least-saturated', (c) => saturationScore(c.inflight, c.capacity) + c.ewmaMs / 1e9, random)
}
