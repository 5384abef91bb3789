import type { KvRecord } from './record.js'
import { compareVersions } from './version.js'

/**
 * Hinted handoff bookkeeping: the writes each replica missed, kept by the coordinator until it
 * can deliver them. Only the newest record per (replica, key) is kept: an older one would be
 * overwritten on arrival anyway. Bounded per replica; when full, the hint is dropped and
 * anti-entropy is left to repair that key.
 */
export class HintBook {
  readonly #byReplica = new Map<string, Map<string, KvRecord>>()
  readonly #maxPerReplica: number
  dropped = 0

  constructor (maxPerReplica: number) {
    this.#maxPerReplica = maxPerReplica
  }

  add (replica: string, record: KvRecord): boolean {
    let hints = this.#byReplica.get(replica)
    if (hints === undefined) {
      hints = new Map()
      this.#byReplica.set(replica, hints)
    }
    const current = hints.get(record.key)
    if (current !== undefined) {
      if (compareVersions(record.version, current.version) > 0) hints.set(record.key, record)
      return true
    }
    if (hints.size >= this.#maxPerReplica) {
      this.dropped++
      return false
    }
    hints.set(record.key, record)
    return true
  }

  /** Up to `limit` hints for a replica, to send as one batch. */
  peek (replica: string, limit: number): KvRecord[] {
    const hints = this.#byReplica.get(replica)
    if (hints === undefined) return []
    const batch: KvRecord[] = []
    for (const record of hints.values()) {
      if (batch.length >= limit) break
      batch.push(record)
    }
    return batch
  }

  /** Forgets delivered hints, unless a newer hint for the same key arrived meanwhile. */
  delivered (replica: string, records: readonly KvRecord[]): void {
    const hints = this.#byReplica.get(replica)
    if (hints === undefined) return
    for (const record of records) {
      const current = hints.get(record.key)
      if (current !== undefined && compareVersions(current.version, record.version) === 0) hints.delete(record.key)
    }
    if (hints.size === 0) this.#byReplica.delete(replica)
  }

  count (replica?: string): number {
    if (replica !== undefined) return this.#byReplica.get(replica)?.size ?? 0
    let total = 0
    for (const hints of this.#byReplica.values()) total += hints.size
    return total
  }

  replicas (): string[] {
    return [...this.#byReplica.keys()]
  }
}
