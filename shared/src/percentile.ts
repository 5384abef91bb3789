/**
 * The one percentile definition behind every published figure (benchmarks, chaos reports, the
 * gateway's windows): nearest rank. The q-quantile of n samples is the smallest sample with at
 * least q·n samples at or below it, q in (0, 1]: for 100 samples p99 is the 99th smallest, not
 * the largest.
 */
export function nearestRank (count: number, q: number): number {
  return Math.min(count, Math.max(1, Math.ceil(q * count)))
}

/** The nearest-rank q-quantile of `samples` (any order); NaN for none. */
export function percentile (samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[nearestRank(sorted.length, q) - 1]!
}
