import { Pool, type Dispatcher } from 'undici'
import type { InstanceRecord } from '../../../shared/src/registry/types.js'
import { capacityFromMeta, type Capacity } from '../balancing/saturation.js'
import type { Candidate } from '../balancing/strategy.js'
import { ewma } from '../balancing/latency-ewma.js'
import { HealthState, type HealthPolicy } from '../resilience/health-state.js'
import { OutlierDetector, type OutlierPolicy } from '../resilience/outlier-detector.js'
import { Admission } from '../resilience/slow-start.js'

/** What the gateway needs of an instance's connection pool: undici's Pool, or a test's fake. */
export interface UpstreamDispatcher {
  dispatch: (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => boolean
  close: () => Promise<void>
}

/** Makes the connection pool of one instance (as undici's BalancedPool takes a `factory`). */
export type PoolFactory = (origin: string, options: Pool.Options) => UpstreamDispatcher

const defaultPoolFactory: PoolFactory = (origin, options) => new Pool(origin, options)

export interface UpstreamOptions {
  health: HealthPolicy
  outlier: OutlierPolicy
  /** Keep-alive connections per instance. @default 128 */
  connections: number
  /** @default defaultPoolFactory (an undici Pool) */
  factory?: PoolFactory
}

/** One registered instance as the gateway sees it: its keep-alive pool and what it has learnt of it. */
export class Upstream implements Candidate {
  readonly id: string
  readonly url: string
  readonly pool: UpstreamDispatcher
  readonly health: HealthState
  readonly outlier: OutlierDetector
  /** When it was last admitted, for slow start. */
  readonly admission = new Admission()
  #record!: InstanceRecord
  #capacity: Capacity | undefined
  inflight = 0
  ewmaMs = 0

  constructor (record: InstanceRecord, opts: UpstreamOptions) {
    this.id = record.id
    this.url = record.url
    this.record = record
    this.pool = (opts.factory ?? defaultPoolFactory)(record.url, { connections: opts.connections, pipelining: 1, keepAliveTimeout: 10_000, connect: { timeout: 1_000 } })
    this.health = new HealthState(opts.health)
    this.outlier = new OutlierDetector(opts.outlier)
  }

  get record (): InstanceRecord { return this.#record }
  /** A fresh registration (a heartbeat's meta) replaces the last one. */
  set record (record: InstanceRecord) {
    this.#record = record
    this.#capacity = capacityFromMeta(record.meta)
  }

  get role (): string { return this.record.role }

  /** The worker pool it publishes, if any (saturation-aware balancing). */
  get capacity (): Capacity | undefined { return this.#capacity }

  available (now: number): boolean {
    return this.health.healthy && !this.outlier.isEjected(now)
  }

  /**
   * It is admitted again (back from an ejection, passing its checks again, or first seen): what
   * was learnt of its latency before is stale, and a stale slow figure would lose every tie of
   * the balancer under light load, so the instance would never be measured again. Slow start
   * bounds its share meanwhile.
   */
  admitted (now: number): void {
    this.ewmaMs = 0
    this.admission.admit(now)
  }

  started (): void { this.inflight += 1 }

  finished (elapsedMs: number): void {
    this.inflight -= 1
    this.ewmaMs = ewma(this.ewmaMs, elapsedMs)
  }

  async close (): Promise<void> {
    await this.pool.close().catch(() => {})
  }
}
