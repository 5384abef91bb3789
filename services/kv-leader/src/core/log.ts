import type { Entry, LogPosition } from './types.js'

/**
 * The replication log in memory: entries 1…lastIndex, contiguous. Mutable on purpose (copying
 * it per event would be O(n)); only the state machine and recovery touch it.
 */
export class ReplicationLog {
  readonly #entries: Entry[] = []

  get lastIndex (): number { return this.#entries.length }
  get lastEpoch (): number { return this.#entries.at(-1)?.epoch ?? 0 }
  get position (): LogPosition { return { epoch: this.lastEpoch, index: this.lastIndex } }

  /** The epoch of the entry at `index`; 0 for index 0; undefined past the end. */
  epochAt (index: number): number | undefined {
    if (index === 0) return 0
    return this.#entries[index - 1]?.epoch
  }

  entry (index: number): Entry | undefined {
    return this.#entries[index - 1]
  }

  append (entry: Entry): void {
    if (entry.index !== this.lastIndex + 1) throw new Error(`log gap: appending ${entry.index} after ${this.lastIndex}`)
    this.#entries.push(entry)
  }

  /** Drops every entry from `index` on. */
  truncateFrom (index: number): void {
    if (index <= this.lastIndex) this.#entries.length = Math.max(0, index - 1)
  }

  /** Entries from `from` on, at most `max` of them and about `maxBytes` of values (at least one). */
  slice (from: number, max: number, maxBytes = Infinity): Entry[] {
    const out: Entry[] = []
    let bytes = 0
    for (let i = from; i <= this.lastIndex && out.length < max; i++) {
      const e = this.#entries[i - 1] as Entry
      bytes += e.value?.length ?? 0
      if (out.length > 0 && bytes > maxBytes) break
      out.push(e)
    }
    return out
  }

  /** The first index of the run of entries sharing the epoch of `index` (a quicker back-off on conflict). */
  firstIndexOfEpochAt (index: number): number {
    const epoch = this.epochAt(index)
    let i = index
    while (i > 1 && this.epochAt(i - 1) === epoch) i--
    return i
  }
}
