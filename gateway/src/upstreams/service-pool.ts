import type { Random, Strategy } from '../balancing/strategy.js'
import type { SlowStartPolicy } from '../resilience/slow-start.js'
import { defaultRoutingPolicy, type CompiledRoutingPolicy } from './routing-policy.js'
import type { Upstream } from './upstream.js'

export interface PickOptions {
  /** Upstreams already tried for this request. */
  exclude?: ReadonlySet<Upstream>
  /** Only instances with this registry role (e.g. `leader`). */
  role?: string
}

export interface ServicePoolOptions {
  /** Ramp the share of newly admitted instances; absent or a window of 0: off. */
  slowStart?: SlowStartPolicy
  /** @default Math.random */
  random?: Random
}

/**
 * The instances of one service and the shell around its strategy: drops unavailable ones,
 * short-circuits 0 or 1 candidates, and, when fewer than `panicThreshold` of them are
 * available, balances across all of them rather than fail (Envoy's panic mode). Instances in
 * their slow-start ramp are kept to their weight.
 */
export class ServicePool {
  readonly name: string
  /** Replaced (by the router) when the service's policy names another balancer. */
  strategy: Strategy
  /** How the gateway treats the service, from its instances' registrations (the router keeps it current). */
  policy: CompiledRoutingPolicy = defaultRoutingPolicy
  readonly panicThreshold: number
  readonly #slowStart: SlowStartPolicy | undefined
  readonly #random: Random
  upstreams: Upstream[] = []

  constructor (name: string, strategy: Strategy, panicThreshold: number, opts: ServicePoolOptions = {}) {
    this.name = name
    this.strategy = strategy
    this.panicThreshold = panicThreshold
    this.#slowStart = opts.slowStart !== undefined && opts.slowStart.windowMs > 0 ? opts.slowStart : undefined
    this.#random = opts.random ?? Math.random
  }

  pick (now: number, { exclude, role }: PickOptions = {}): Upstream | undefined {
    let candidates = this.upstreams
    if (role !== undefined) candidates = candidates.filter((u) => u.role === role)
    if (exclude !== undefined && exclude.size > 0) candidates = candidates.filter((u) => !exclude.has(u))
    if (candidates.length === 0) return undefined
    if (role !== undefined) {
      // a role names one instance (the leader). One failing its health checks is dead or frozen,
      // never a fallback. An outlier ejection does not hide it: there is no other instance to
      // send its requests to, and it earned the ejection with 503s while it could not renew its
      // lease (Redis being replaced); ejections double, and over a few failovers the leader
      // stayed hidden for 30 s after it led again.
      const healthy = candidates.filter((u) => u.health.healthy)
      return healthy.length <= 1 ? healthy[0] : this.strategy.select(healthy)
    }
    const available = candidates.filter((u) => this.#observe(u, now))
    const pool = available.length === 0 || available.length < this.panicThreshold * candidates.length ? candidates : available
    if (pool.length === 1) return pool[0]
    const chosen = this.strategy.select(pool)
    if (chosen === undefined || this.#slowStart === undefined) return chosen
    // slow start: an instance in its ramp keeps a pick with probability equal to its weight
    // relative to the heaviest candidate, and otherwise the pick goes to one of the others: its
    // share is that fraction of what the strategy would give it. Instances that ramp together
    // (all of them, when the gateway starts) keep the strategy's choices as they are.
    const weight = chosen.admission.weight(now, this.#slowStart)
    if (weight >= 1) return chosen
    let heaviest = weight
    for (const u of pool) heaviest = Math.max(heaviest, u.admission.weight(now, this.#slowStart))
    if (this.#random() * heaviest < weight) return chosen
    return this.strategy.select(pool.filter((u) => u !== chosen)) ?? chosen
  }

  /** Ejection never takes out the last available instance. */
  mayEject (upstream: Upstream, now: number): boolean {
    return this.upstreams.some((u) => u !== upstream && u.available(now))
  }

  availableCount (now: number): number {
    return this.upstreams.reduce((n, u) => n + (u.available(now) ? 1 : 0), 0)
  }

  /** Availability, with its transitions noted for slow start (the picks are where admission is seen). */
  #observe (upstream: Upstream, now: number): boolean {
    const available = upstream.available(now)
    if (upstream.admission.observe(available, now)) upstream.ewmaMs = 0 // see Upstream.admitted
    return available
  }
}
