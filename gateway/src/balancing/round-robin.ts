import type { Candidate, Strategy } from './strategy.js'

/** Each candidate in turn. The cursor survives changes of the candidate list. */
export function RoundRobinStrategy (): Strategy {
  let next = 0
  return {
    name: 'round-robin',
    select: <C extends Candidate>(candidates: readonly C[]) => {
      if (candidates.length === 0) return undefined
      const chosen = candidates[next % candidates.length]
      next = (next + 1) % 1_000_000_007 // stays a small integer forever
      return chosen
    }
  }
}
