import type { RegistryWatcher } from '../../../shared/src/registry/watcher.js'
import type { ReplicaTarget } from './core/coordination.js'

export type { ReplicaTarget }

/**
 * The configured replica set (by id) matched against the registry: who is where right now.
 * N is the size of the configured set, whether or not every replica is up.
 *
 * A replica that drops out of the registry keeps its last known address: its registration lapses
 * whenever Redis is away longer than the registry TTL (a failover promotes a replica on which
 * every registration has expired), while the replica itself lives on. Forgotten, every coordinator
 * saw only itself and answered KVQ_ERR_NO_QUORUM until the registrations came back (Redis
 * failover chaos, seed 7). A replica that is really gone refuses the connection, which the
 * coordinator counts as a replica down, as it did an unregistered one.
 */
export class ReplicaDirectory {
  readonly ids: readonly string[]
  readonly self: string
  readonly #watcher: Pick<RegistryWatcher, 'instances'>
  readonly #service: string
  readonly #lastKnown = new Map<string, string>()

  constructor (opts: { ids: readonly string[], self: string, watcher: Pick<RegistryWatcher, 'instances'>, service: string }) {
    this.ids = opts.ids
    this.self = opts.self
    this.#watcher = opts.watcher
    this.#service = opts.service
  }

  get n (): number { return this.ids.length }

  targets (): ReplicaTarget[] {
    const urls = this.urls()
    return this.ids.map((id) => ({ id, url: urls.get(id), self: id === this.self }))
  }

  urls (): Map<string, string> {
    for (const record of this.#watcher.instances(this.#service)) {
      if (this.ids.includes(record.id)) this.#lastKnown.set(record.id, record.url)
    }
    return new Map(this.#lastKnown)
  }

  peers (): ReplicaTarget[] {
    return this.targets().filter((t) => !t.self)
  }
}
