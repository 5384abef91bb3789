import type { Strategy } from '../balancing/strategy.js'
import type { Upstream } from './upstream.js'

export interface PickOptions {
  /** Upstreams already tried for this request. */
  exclude?: ReadonlySet<Upstream>
  /** Only instances with this registry role (e.g. `leader`). */
  role?: string
}

/**
 * The instances of one service and the shell around its strategy: drops unavailable ones,
 * short-circuits 0 or 1 candidates, and, when fewer than `panicThreshold` of them are
 * available, balances across all of them rather than fail (Envoy's panic mode).
 */
export class ServicePool {
  readonly name: string
  readonly strategy: Strategy
  readonly panicThreshold: number
  upstreams: Upstream[] = []

  constructor (name: string, strategy: Strategy, panicThreshold: number) {
    this.name = name
    this.strategy = strategy
    this.panicThreshold = panicThreshold
  }

  pick (now: number, { exclude, role }: PickOptions = {}): Upstream | undefined {
    let candidates = this.upstreams
    if (role !== undefined) candidates = candidates.filter((u) => u.role === role)
    if (exclude !== undefined && exclude.size > 0) candidates = candidates.filter((u) => !exclude.has(u))
    if (candidates.length === 0) return undefined
    const available = candidates.filter((u) => u.available(now))
    // a role names one instance (the leader): an unavailable one is dead or deposed, never a fallback
    if (role !== undefined) return available.length <= 1 ? available[0] : this.strategy.select(available)
    const pool = available.length === 0 || available.length < this.panicThreshold * candidates.length ? candidates : available
    if (pool.length === 1) return pool[0]
    return this.strategy.select(pool)
  }

  /** Ejection never takes out the last available instance. */
  mayEject (upstream: Upstream, now: number): boolean {
    return this.upstreams.some((u) => u !== upstream && u.available(now))
  }

  availableCount (now: number): number {
    return this.upstreams.reduce((n, u) => n + (u.available(now) ? 1 : 0), 0)
  }
}
