import type { AppendLog } from './adapters/persistence.js'
import { bucketDigests, bucketOf } from './core/digest.js'
import type { HybridClock } from './core/hlc.js'
import type { KvRecord } from './core/record.js'
import type { VersionedStore } from './core/store.js'

export interface ReplicaOptions {
  store: VersionedStore
  log: Pick<AppendLog, 'append' | 'compact'>
  clock: HybridClock
  /** The wall clock (with any injected offset), for the tombstone grace period. */
  wallNow: () => number
  tombstoneGraceMs: number
  digestBuckets: number
}

/**
 * This instance's own copy of the data: the in-memory store, made durable by the append log.
 * Every record it accepts also advances its hybrid clock, so writes it coordinates later are
 * stamped after everything it has seen.
 */
export class LocalReplica {
  readonly #o: ReplicaOptions
  #digests: { changes: number, digests: string[] } | undefined

  constructor (opts: ReplicaOptions) {
    this.#o = opts
  }

  get size (): number { return this.#o.store.size }

  get (key: string): KvRecord | undefined {
    const record = this.#o.store.get(key)
    if (record !== undefined) this.#o.clock.observe(record.version)
    return record
  }

  /** Applies records (newest wins) and resolves once the applied ones are on disk; returns how many were applied. */
  async apply (records: readonly KvRecord[]): Promise<number> {
    const collectBefore = this.#o.wallNow() - this.#o.tombstoneGraceMs
    const writes: Array<Promise<void>> = []
    for (const record of records) {
      this.#o.clock.observe(record.version)
      // a tombstone past its grace period would only be collected again: keep it out
      if (record.value === null && record.version.t < collectBefore) continue
      if (this.#o.store.apply(record) === 'applied') writes.push(this.#o.log.append(record))
    }
    await Promise.all(writes)
    return writes.length
  }

  /**
   * Per-bucket digests, recomputed only when the data changed: every anti-entropy round asks for
   * them (its own and its peers'), and an idle replica's answer is the same each time.
   */
  digests (): string[] {
    const changes = this.#o.store.changes
    if (this.#digests?.changes !== changes) this.#digests = { changes, digests: bucketDigests(this.#o.store.records(), this.#o.digestBuckets) }
    return this.#digests.digests
  }

  bucket (bucket: number): KvRecord[] {
    const out: KvRecord[] = []
    for (const r of this.#o.store.records()) if (bucketOf(r.key, this.#o.digestBuckets) === bucket) out.push(r)
    return out
  }

  /** Collects tombstones past the grace period and, if any, compacts the log. */
  async collectTombstones (): Promise<number> {
    const dropped = this.#o.store.collectTombstones(this.#o.wallNow() - this.#o.tombstoneGraceMs)
    if (dropped > 0) await this.#o.log.compact()
    return dropped
  }
}
