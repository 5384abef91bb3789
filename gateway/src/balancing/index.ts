import { ClusterError } from '../../../shared/src/errors.js'
import { balancerNames, type BalancerName } from '../../../shared/src/registry/policy.js'
import { LatencyEwmaStrategy } from './latency-ewma.js'
import { LeastOutstandingStrategy } from './least-outstanding.js'
import { LeastSaturatedStrategy } from './least-saturated.js'
import { RandomStrategy } from './random.js'
import { RoundRobinStrategy } from './round-robin.js'
import type { Random, Strategy } from './strategy.js'

export type { Strategy } from './strategy.js'

// the names are declared once, with the routing policy a service publishes; each has its strategy here
const strategies: Readonly<Record<BalancerName, (random?: Random) => Strategy>> = {
  'round-robin': () => RoundRobinStrategy(),
  random: (random?: Random) => RandomStrategy(random ? { random } : {}),
  'least-outstanding': (random?: Random) => LeastOutstandingStrategy(random ? { random } : {}),
  'latency-ewma': (random?: Random) => LatencyEwmaStrategy(random ? { random } : {}),
  'least-saturated': (random?: Random) => LeastSaturatedStrategy(random ? { random } : {})
}

/** Maps a balancer name (a service's routing policy, or GW_BALANCERS) to a fresh strategy. */
export function createStrategy (name: string, random?: Random): Strategy {
  const make = Object.hasOwn(strategies, name) ? strategies[name as BalancerName] : undefined
  if (make === undefined) throw new ClusterError('CFG_ERR_UNKNOWN_STRATEGY', `unknown balancer "${name}"; expected one of ${balancerNames.join(', ')}`, 500)
  return make(random)
}
