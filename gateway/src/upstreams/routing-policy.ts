import type { BalancerName, RoutingPolicy } from '../../../shared/src/registry/policy.js'
import type { InstanceRecord } from '../../../shared/src/registry/types.js'

/** A service's routing policy with every default filled in: what the proxy reads per request. */
export interface CompiledRoutingPolicy {
  readonly balancer: BalancerName
  /** Writes and default reads go to the instance whose role is `leader`. */
  readonly leaderRouting: boolean
  readonly retryNonIdempotent: boolean
  /** undefined: the gateway's default (`GW_TRY_TIMEOUT_MS`). */
  readonly tryTimeoutMs: number | undefined
  readonly hedge: boolean
  readonly cacheable: boolean
  readonly staleIfErrorMs: number
}

/** What a service that declares nothing gets. */
export const defaultRoutingPolicy: CompiledRoutingPolicy = Object.freeze({
  balancer: 'least-outstanding',
  leaderRouting: false,
  retryNonIdempotent: false,
  tryTimeoutMs: undefined,
  hedge: false,
  cacheable: false,
  staleIfErrorMs: 0
})

/** Fills in the defaults; `balancer` (GW_BALANCERS, for benchmarks) replaces the declared one. */
export function compilePolicy (declared: RoutingPolicy | undefined, balancer?: BalancerName): CompiledRoutingPolicy {
  const d = declared ?? {}
  return Object.freeze({
    balancer: balancer ?? d.balancer ?? defaultRoutingPolicy.balancer,
    leaderRouting: d.routing === 'leader',
    retryNonIdempotent: d.retryNonIdempotent ?? false,
    tryTimeoutMs: d.tryTimeoutMs,
    hedge: d.hedge ?? false,
    cacheable: d.cacheable ?? false,
    staleIfErrorMs: (d.staleIfErrorS ?? 0) * 1_000
  })
}

export function samePolicy (a: CompiledRoutingPolicy, b: CompiledRoutingPolicy): boolean {
  return a.balancer === b.balancer && a.leaderRouting === b.leaderRouting && a.retryNonIdempotent === b.retryNonIdempotent &&
    a.tryTimeoutMs === b.tryTimeoutMs && a.hedge === b.hedge && a.cacheable === b.cacheable && a.staleIfErrorMs === b.staleIfErrorMs
}

export interface PolicyChoice {
  /** The policy that applies; undefined when no instance declares one (the defaults apply). */
  policy: RoutingPolicy | undefined
  /** The instance whose declaration was chosen. */
  from: string | undefined
  /** Instances whose declaration differs from the chosen one, by id. */
  disagreeing: string[]
}

/**
 * Which declaration applies when a service's instances disagree (a rolling deploy that changes
 * the policy, one instance started from other code): the newest registration wins (latest
 * `startedAt`, then the greatest id). The instances started last carry what was deployed last,
 * so a rollout's first new instance switches the service at once and a rollback switches it back
 * the same way. An instance that declares nothing has no say; if none declares anything, the
 * defaults apply.
 */
export function choosePolicy (records: readonly InstanceRecord[]): PolicyChoice {
  let chosen: InstanceRecord | undefined
  for (const r of records) {
    if (r.policy === undefined) continue
    if (chosen === undefined || r.startedAt > chosen.startedAt || (r.startedAt === chosen.startedAt && r.id > chosen.id)) chosen = r
  }
  if (chosen === undefined) return { policy: undefined, from: undefined, disagreeing: [] }
  // disagreeing in effect: `{}` and `{ balancer: 'least-outstanding' }` agree
  const effective = compilePolicy(chosen.policy)
  const disagreeing = records.filter((r) => r.policy !== undefined && !samePolicy(compilePolicy(r.policy), effective)).map((r) => r.id).sort()
  return { policy: chosen.policy, from: chosen.id, disagreeing }
}
