import type { Entry, SnapshotEntry } from './types.js'

export interface StoredValue {
  value: Buffer
  /** The log index of the write that produced it. */
  version: number
}

/** The key-value state machine: committed entries applied in log order. */
export class KeyValueStore {
  readonly #data = new Map<string, StoredValue>()
  #appliedIndex = 0

  get appliedIndex (): number { return this.#appliedIndex }
  get size (): number { return this.#data.size }

  get (key: string): StoredValue | undefined {
    return this.#data.get(key)
  }

  apply (entry: Entry): void {
    if (entry.index !== this.#appliedIndex + 1) throw new Error(`apply out of order: ${entry.index} after ${this.#appliedIndex}`)
    if (entry.op === 'put' && entry.key !== undefined) this.#data.set(entry.key, { value: entry.value ?? Buffer.alloc(0), version: entry.index })
    else if (entry.op === 'del' && entry.key !== undefined) this.#data.delete(entry.key)
    this.#appliedIndex = entry.index
  }

  /** Every key with its value and version (a snapshot's content, at `appliedIndex`). */
  entries (): SnapshotEntry[] {
    return [...this.#data].map(([key, { value, version }]) => ({ key, value, version }))
  }

  /** Replaces the content with a snapshot's, applied up to `index`. */
  restore (entries: readonly SnapshotEntry[], index: number): void {
    this.#data.clear()
    for (const { key, value, version } of entries) this.#data.set(key, { value, version })
    this.#appliedIndex = index
  }

  /** Forgets everything (before a replay, after a deposed leader's applied tail was truncated). */
  reset (): void {
    this.#data.clear()
    this.#appliedIndex = 0
  }
}
