import type { RegistryWatcher } from '../../../shared/src/registry/watcher.js'
import type { ReplicaTarget } from './core/coordination.js'

export type { ReplicaTarget }

/**
 * The configured replica set (by id) matched against the registry: who is where right now.
 * N is the size of the configured set, whether or not every replica is up.
 */
export class ReplicaDirectory {
  readonly ids: readonly string[]
  readonly self: string
  readonly #watcher: RegistryWatcher
  readonly #service: string

  constructor (opts: { ids: readonly string[], self: string, watcher: RegistryWatcher, service: string }) {
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
    const urls = new Map<string, string>()
    for (const record of this.#watcher.instances(this.#service)) {
      if (this.ids.includes(record.id)) urls.set(record.id, record.url)
    }
    return urls
  }

  peers (): ReplicaTarget[] {
    return this.targets().filter((t) => !t.self)
  }
}
