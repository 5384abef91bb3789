/** What a strategy may look at: a snapshot of one upstream, never its socket. */
export interface Candidate {
  readonly id: string
  /** Requests sent and not yet answered. */
  readonly inflight: number
  /** Exponentially weighted response time in ms; 0 when nothing is known yet. */
  readonly ewmaMs: number
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
