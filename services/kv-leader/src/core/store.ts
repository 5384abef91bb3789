import { decide } from './precondition.js'
import type { AppliedWrite, ApplyResult, Entry, SnapshotEntry } from './types.js'

export interface StoredValue {
  value: Buffer
  /** The log index of the write that produced it. */
  version: number
}

/**
 * How far back (in log entries) a retry key is remembered. A constant, not a setting: every
 * replica must forget a key at the same entry, or a late retry would be applied on some
 * replicas and not on others. 50,000 entries outlast the gateway's 10 s deadline at any write
 * rate this store reaches with fsync (a few thousand per second).
 */
const retryKeyWindowEntries = 50_000

/** The key-value state machine: committed entries applied in log order. */
export class KeyValueStore {
  readonly #data = new Map<string, StoredValue>()
  /** Retry key → the write that carried it; insertion (= log) order, so the oldest comes first. */
  readonly #writes = new Map<string, { index: number, result: ApplyResult }>()
  #appliedIndex = 0

  get appliedIndex (): number { return this.#appliedIndex }
  get size (): number { return this.#data.size }

  get (key: string): StoredValue | undefined {
    return this.#data.get(key)
  }

  /**
   * Applies the next entry and says what it did. A write whose precondition fails takes its
   * index and changes nothing; so does a retry of a write already applied, which answers as the
   * first one did.
   */
  apply (entry: Entry): ApplyResult | undefined {
    if (entry.index !== this.#appliedIndex + 1) throw new Error(`apply out of order: ${entry.index} after ${this.#appliedIndex}`)
    this.#appliedIndex = entry.index
    this.#forgetOldWrites()
    if (entry.op === 'noop' || entry.key === undefined) return undefined
    const earlier = entry.rid === undefined ? undefined : this.#writes.get(entry.rid)
    if (earlier !== undefined) return earlier.result
    const result = decide(entry, this.#data.get(entry.key)?.version ?? null)
    if (entry.rid !== undefined) this.#writes.set(entry.rid, { index: entry.index, result })
    if (!result.applied) return result
    if (entry.op === 'put') this.#data.set(entry.key, { value: entry.value ?? Buffer.alloc(0), version: entry.index })
    else this.#data.delete(entry.key)
    return result
  }

  /** Every key with its value and version (a snapshot's content, at `appliedIndex`). */
  entries (): SnapshotEntry[] {
    return [...this.#data].map(([key, { value, version }]) => ({ key, value, version }))
  }

  /** The retry keys remembered, oldest first (a snapshot carries them). */
  writes (): AppliedWrite[] {
    return [...this.#writes].map(([rid, { index, result }]) => ({ rid, index, result }))
  }

  /** Replaces the content with a snapshot's, applied up to `index`. */
  restore (entries: readonly SnapshotEntry[], index: number, writes: readonly AppliedWrite[] = []): void {
    this.#data.clear()
    this.#writes.clear()
    for (const { key, value, version } of entries) this.#data.set(key, { value, version })
    for (const { rid, index: at, result } of writes) this.#writes.set(rid, { index: at, result })
    this.#appliedIndex = index
    this.#forgetOldWrites()
  }

  /** Forgets everything (before a replay, after a deposed leader's applied tail was truncated). */
  reset (): void {
    this.#data.clear()
    this.#writes.clear()
    this.#appliedIndex = 0
  }

  #forgetOldWrites (): void {
    for (const [rid, { index }] of this.#writes) {
      if (index > this.#appliedIndex - retryKeyWindowEntries) break
      this.#writes.delete(rid)
    }
  }
}
