import { ClusterError } from '../../../shared/src/errors.js'
import type { Logger } from '../../../shared/src/logger.js'
import { balancerNames, type BalancerName } from '../../../shared/src/registry/policy.js'
import type { InstanceRecord } from '../../../shared/src/registry/types.js'
import type { Snapshot } from '../../../shared/src/registry/watcher.js'
import { createStrategy } from '../balancing/index.js'
import type { SlowStartPolicy } from '../resilience/slow-start.js'
import { choosePolicy, compilePolicy, samePolicy } from './routing-policy.js'
import { ServicePool } from './service-pool.js'
import { Upstream, type UpstreamOptions } from './upstream.js'

export interface RouterOptions extends UpstreamOptions {
  /** Services that always have a pool, listed by /registry even with no instance (the topology's). @default none */
  knownServices?: readonly string[]
  /** Services routed at once, the known ones included; records of any more are skipped. @default 64 */
  maxServices?: number
  panicThreshold: number
  /** Slow start of newly admitted instances, for every service. */
  slowStart?: SlowStartPolicy
  /** Balancers that replace the ones the services declare, by service (GW_BALANCERS, for benchmarks). */
  balancers?: Readonly<Record<string, string>>
  log?: Logger
  /** Told of instances joining, leaving and changing role, for the events timeline. */
  onEvent?: (event: { type: string, service: string, instance: string, message: string }) => void
}

/**
 * Keeps one ServicePool per service in step with the registry: new instances get a pool at
 * once, changed URLs (a restart on a new port) get a fresh one, vanished ones are closed. Every
 * service that registers is routed, a new one as soon as its first instance appears, with the
 * routing policy its instances declare (routing-policy.ts): the gateway needs no change for a
 * new service. The registry has validated each record (a sane service name, an http(s) origin, a
 * valid policy); whoever can write to Redis can still invent services, so at most `maxServices`
 * are routed at once: a service whose instances all left is forgotten when room is needed, and
 * records beyond that are skipped and logged once.
 */
export class Router {
  readonly #opts: RouterOptions
  readonly #maxServices: number
  readonly #known: ReadonlySet<string>
  readonly #pools = new Map<string, ServicePool>()
  readonly #skipped = new Map<string, string>()
  /** The disagreement last logged, by service, so each is logged once. */
  readonly #disagreements = new Map<string, string>()

  constructor (opts: RouterOptions) {
    for (const [service, name] of Object.entries(opts.balancers ?? {})) {
      if (!(balancerNames as readonly string[]).includes(name)) {
        throw new ClusterError('CFG_ERR_UNKNOWN_STRATEGY', `unknown balancer "${name}" for ${service}; expected one of ${balancerNames.join(', ')}`, 500)
      }
    }
    this.#opts = opts
    this.#maxServices = opts.maxServices ?? 64
    this.#known = new Set(opts.knownServices ?? [])
    for (const name of this.#known) this.#pools.set(name, this.#newPool(name))
  }

  get pools (): ReadonlyMap<string, ServicePool> { return this.#pools }

  service (name: string): ServicePool | undefined {
    return this.#pools.get(name)
  }

  * upstreams (): Iterable<Upstream> {
    for (const pool of this.#pools.values()) yield * pool.upstreams
  }

  apply (snapshot: Snapshot): void {
    const byService = new Map<string, InstanceRecord[]>()
    for (const record of snapshot.values()) {
      let list = byService.get(record.service)
      if (list === undefined) {
        list = []
        byService.set(record.service, list)
      }
      list.push(record)
    }
    // the services already routed first: one whose instances all left makes room for a new one
    for (const [name, pool] of this.#pools) this.#update(pool, byService.get(name) ?? [])
    for (const [name, records] of byService) {
      if (this.#pools.has(name)) continue
      const pool = this.#admit(name)
      if (pool === undefined) {
        for (const record of records) this.#skip(record, `too many services: at most ${this.#maxServices} are routed (GW_MAX_SERVICES)`)
        continue
      }
      this.#opts.log?.info({ target: name }, 'new service routed')
      this.#update(pool, records)
    }
  }

  async close (): Promise<void> {
    await Promise.all([...this.upstreams()].map(async (u) => await u.close()))
  }

  #skip (record: InstanceRecord, problem: string): void {
    if (this.#skipped.get(record.id) === problem) return
    if (this.#skipped.size >= 1_000) this.#skipped.clear()
    this.#skipped.set(record.id, problem)
    this.#opts.log?.warn({ instance: record.id, problem }, 'registry record skipped')
  }

  #newPool (name: string): ServicePool {
    const policy = compilePolicy(undefined, this.#override(name))
    const pool = new ServicePool(name, createStrategy(policy.balancer), this.#opts.panicThreshold, this.#opts.slowStart !== undefined ? { slowStart: this.#opts.slowStart } : {})
    pool.policy = policy
    return pool
  }

  /** A pool for a service not routed yet, if there is room (made by forgetting a service with no instance left). */
  #admit (name: string): ServicePool | undefined {
    if (this.#pools.size >= this.#maxServices) {
      const idle = [...this.#pools.values()].find((p) => p.upstreams.length === 0 && !this.#known.has(p.name))
      if (idle === undefined) return undefined
      this.#pools.delete(idle.name)
      this.#disagreements.delete(idle.name)
      this.#opts.log?.info({ target: idle.name }, 'service with no instance forgotten')
    }
    const pool = this.#newPool(name)
    this.#pools.set(name, pool)
    return pool
  }

  #override (service: string): BalancerName | undefined {
    return this.#opts.balancers?.[service] as BalancerName | undefined
  }

  #update (pool: ServicePool, records: InstanceRecord[]): void {
    this.#sync(pool, records)
    // no instance left: the last policy stays (a cacheable service's stale answers outlive its instances)
    if (records.length > 0) this.#adoptPolicy(pool, records)
  }

  /** Built here, when the registry changes, so the proxy reads it per request as one property. */
  #adoptPolicy (pool: ServicePool, records: InstanceRecord[]): void {
    const choice = choosePolicy(records)
    const policy = compilePolicy(choice.policy, this.#override(pool.name))
    if (!samePolicy(policy, pool.policy)) {
      // a fresh strategy only for another balancer: a strategy's state (round-robin's turn) is kept otherwise
      if (policy.balancer !== pool.policy.balancer) pool.strategy = createStrategy(policy.balancer)
      pool.policy = policy
      this.#opts.log?.info({ target: pool.name, policy, from: choice.from ?? 'defaults (no instance declares a policy)' }, 'routing policy adopted')
    }
    const disagreement = choice.disagreeing.length === 0 ? '' : `${choice.from ?? ''} over ${choice.disagreeing.join(',')}`
    if (disagreement === (this.#disagreements.get(pool.name) ?? '')) return
    this.#disagreements.set(pool.name, disagreement)
    if (disagreement !== '') {
      this.#opts.log?.warn({ target: pool.name, chosen: choice.from, disagreeing: choice.disagreeing }, 'instances disagree on the routing policy: the newest registration\'s applies')
    }
  }

  #sync (pool: ServicePool, records: InstanceRecord[]): void {
    const current = new Map(pool.upstreams.map((u) => [u.id, u]))
    const next: Upstream[] = []
    for (const record of records) {
      const existing = current.get(record.id)
      if (existing !== undefined && existing.url === record.url) {
        // the instance itself publishes its role changes as events; the gateway only logs them
        if (existing.role !== record.role) this.#opts.log?.info({ target: pool.name, instance: record.id, role: record.role }, 'role changed')
        existing.record = record
        next.push(existing)
        current.delete(record.id)
      } else {
        let upstream: Upstream
        try {
          upstream = new Upstream(record, this.#opts)
        } catch (err) {
          // the registry validates records; this is the last line should a new kind of bad one appear
          this.#skip(record, (err as Error).message)
          continue
        }
        next.push(upstream)
        this.#opts.log?.info({ target: pool.name, instance: record.id, url: record.url }, 'instance added')
        this.#opts.onEvent?.({ type: 'instance-added', service: pool.name, instance: record.id, message: `${record.id} joined at ${record.url} as ${record.role}` })
      }
    }
    for (const gone of current.values()) {
      this.#opts.log?.info({ target: pool.name, instance: gone.id }, 'instance removed')
      this.#opts.onEvent?.({ type: 'instance-removed', service: pool.name, instance: gone.id, message: `${gone.id} left the registry` })
      void gone.close()
    }
    next.sort((a, b) => a.id.localeCompare(b.id))
    pool.upstreams = next
  }
}
