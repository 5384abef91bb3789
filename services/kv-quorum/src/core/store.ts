import type { KvRecord } from './record.js'
import { compareVersions } from './version.js'

export type ApplyOutcome = 'applied' | 'stale' | 'same'

/**
 * A replica's data in memory: the newest record per key. `apply` keeps whichever version is
 * newer, so applying records in any order, any number of times, ends in the same state (the
 * property read repair, hinted handoff, anti-entropy and log replay all rely on).
 */
export class VersionedStore {
  readonly #records = new Map<string, KvRecord>()
  #changes = 0

  get size (): number { return this.#records.size }

  /** Goes up with every change: what was derived from the records at one count still holds at it. */
  get changes (): number { return this.#changes }

  get (key: string): KvRecord | undefined {
    return this.#records.get(key)
  }

  apply (record: KvRecord): ApplyOutcome {
    const current = this.#records.get(record.key)
    if (current !== undefined) {
      const order = compareVersions(record.version, current.version)
      if (order < 0) return 'stale'
      if (order === 0) return 'same'
    }
    this.#records.set(record.key, record)
    this.#changes++
    return 'applied'
  }

  records (): IterableIterator<KvRecord> {
    return this.#records.values()
  }

  /** Drops tombstones whose delete is older than `olderThanMs` (wall ms); returns how many. */
  collectTombstones (olderThanMs: number): number {
    let dropped = 0
    for (const [key, record] of this.#records) {
      if (record.value === null && record.version.t < olderThanMs) {
        this.#records.delete(key)
        dropped++
      }
    }
    this.#changes += dropped
    return dropped
  }
}
