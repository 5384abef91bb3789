import type { Candidate, Random, Strategy } from './strategy.js'

/** Uniformly random: no state, no coordination, fair on average. */
export function RandomStrategy ({ random = Math.random }: { random?: Random } = {}): Strategy {
  return {
    name: 'random',
    select: <C extends Candidate>(candidates: readonly C[]) => candidates[Math.floor(random() * candidates.length)]
  }
}
