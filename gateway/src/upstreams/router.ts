import type { Logger } from '../../../shared/src/logger.js'
import type { InstanceRecord } from '../../../shared/src/registry/types.js'
import type { Snapshot } from '../../../shared/src/registry/watcher.js'
import type { ServiceSpec } from '../../../topology.js'
import { createStrategy } from '../balancing/index.js'
import type { SlowStartPolicy } from '../resilience/slow-start.js'
import { ServicePool } from './service-pool.js'
import { Upstream, type UpstreamOptions } from './upstream.js'

export interface RouterOptions extends UpstreamOptions {
  services: Readonly<Record<string, ServiceSpec>>
  panicThreshold: number
  /** Slow start of newly admitted instances, for every service. */
  slowStart?: SlowStartPolicy
  /** Balancers that replace the topology's, by service. */
  balancers?: Readonly<Record<string, string>>
  log?: Logger
  /** Told of instances joining, leaving and changing role, for the events timeline. */
  onEvent?: (event: { type: string, service: string, instance: string, message: string }) => void
}

/**
 * Keeps one ServicePool per service in step with the registry: new instances get a pool at
 * once, changed URLs (a restart on a new port) get a fresh one, vanished ones are closed.
 * Only the topology's services are routed: a record for any other is skipped and logged once,
 * so whoever can write to Redis cannot make the gateway grow pools for made-up services.
 */
export class Router {
  readonly #opts: RouterOptions
  readonly #pools = new Map<string, ServicePool>()
  readonly #skipped = new Map<string, string>()

  constructor (opts: RouterOptions) {
    this.#opts = opts
    for (const name of Object.keys(opts.services)) this.#pool(name)
  }

  get pools (): ReadonlyMap<string, ServicePool> { return this.#pools }

  service (name: string): ServicePool | undefined {
    return this.#pools.get(name)
  }

  spec (name: string): ServiceSpec | undefined {
    return this.#opts.services[name]
  }

  * upstreams (): Iterable<Upstream> {
    for (const pool of this.#pools.values()) yield * pool.upstreams
  }

  apply (snapshot: Snapshot): void {
    const byService = new Map<string, InstanceRecord[]>()
    for (const record of snapshot.values()) {
      if (!Object.hasOwn(this.#opts.services, record.service)) {
        this.#skip(record, `unknown service "${record.service}" (not in the topology)`)
        continue
      }
      const list = byService.get(record.service) ?? []
      list.push(record)
      byService.set(record.service, list)
    }
    for (const name of new Set([...this.#pools.keys(), ...byService.keys()])) {
      this.#sync(this.#pool(name), byService.get(name) ?? [])
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

  #pool (name: string): ServicePool {
    let pool = this.#pools.get(name)
    if (pool === undefined) {
      const balancer = this.#opts.balancers?.[name] ?? this.#opts.services[name]?.balancer ?? 'least-outstanding'
      pool = new ServicePool(name, createStrategy(balancer), this.#opts.panicThreshold, this.#opts.slowStart !== undefined ? { slowStart: this.#opts.slowStart } : {})
      this.#pools.set(name, pool)
    }
    return pool
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
