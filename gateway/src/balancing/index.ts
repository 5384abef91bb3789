import { ClusterError } from '../../../shared/src/errors.js'
import { LatencyEwmaStrategy } from './latency-ewma.js'
import { LeastOutstandingStrategy } from './least-outstanding.js'
import { LeastSaturatedStrategy } from './least-saturated.js'
import { RandomStrategy } from './random.js'
import { RoundRobinStrategy } from './round-robin.js'
import type { Random, Strategy } from './strategy.js'

export type { Candidate, Strategy } from './strategy.js'

const strategies = {
  'round-robin': () => RoundRobinStrategy(),
  random: (random?: Random) => RandomStrategy(random ? { random } : {}),
  'least-outstanding': (random?: Random) => LeastOutstandingStrategy(random ? { random } : {}),
  'latency-ewma': (random?: Random) => LatencyEwmaStrategy(random ? { random } : {}),
  'least-saturated': (random?: Random) => LeastSaturatedStrategy(random ? { random } : {})
} as const

export type BalancerName = keyof typeof strategies
export const balancerNames = Object.keys(strategies) as BalancerName[]

/** Maps a topology's balancer name to a fresh strategy. */
export function createStrategy (name: string, random?: Random): Strategy {
  const make = (strategies as Record<string, ((random?: Random) => Strategy) | undefined>)[name]
  if (make === undefined) throw new ClusterError('CFG_ERR_UNKNOWN_STRATEGY', `unknown balancer "${name}"; expected one of ${balancerNames.join(', ')}`, 500)
  return make(random)
}
