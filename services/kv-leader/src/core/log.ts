import type { Entry, LogPosition } from './types.js'

/**
 * The replication log in memory: entries base+1…lastIndex, contiguous; entries up to `base`
 * were compacted into a snapshot. Mutable on purpose (copying it per event would be O(n)); only
 * the state machine and recovery touch it.
 */
export class ReplicationLog {
  #entries: Entry[] = []
  #base = 0
  #baseEpoch = 0

  /** The last index covered by a snapshot (0: none). */
  get base (): number { return this.#base }
  get baseEpoch (): number { return this.#baseEpoch }
  get lastIndex (): number { return this.#base + this.#entries.length }
  get lastEpoch (): number { return this.#entries.at(-1)?.epoch ?? this.#baseEpoch }
  get position (): LogPosition { return { epoch: this.lastEpoch, index: this.lastIndex } }
  /** Entries held (not compacted). */
  get length (): number { return this.#entries.length }

  /** The epoch of the entry at `index`; 0 for index 0; undefined past the end or before the base. */
  epochAt (index: number): number | undefined {
    if (index === this.#base) return this.#baseEpoch
    if (index < this.#base) return undefined
    return this.#entries[index - this.#base - 1]?.epoch
  }

  entry (index: number): Entry | undefined {
    if (index <= this.#base) return undefined
    return this.#entries[index - this.#base - 1]
  }

  append (entry: Entry): void {
    if (entry.index !== this.lastIndex + 1) throw new Error(`log gap: appending ${entry.index} after ${this.lastIndex}`)
    this.#entries.push(entry)
  }

  /** Drops every entry from `index` on (never a compacted one: those are committed). */
  truncateFrom (index: number): void {
    if (index <= this.#base) throw new Error(`cannot truncate from ${index}: entries up to ${this.#base} are compacted`)
    if (index <= this.lastIndex) this.#entries.length = index - this.#base - 1
  }

  /** Entries from `from` on (never before the base), at most `max` of them and about `maxBytes` of values (at least one). */
  slice (from: number, max: number, maxBytes = Infinity): Entry[] {
    const out: Entry[] = []
    let bytes = 0
    for (let i = Math.max(from, this.#base + 1); i <= this.lastIndex && out.length < max; i++) {
      const e = this.#entries[i - this.#base - 1] as Entry
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
    while (i > this.#base + 1 && this.epochAt(i - 1) === epoch) i--
    return i
  }

  /** Forgets the entries up to `index` (a snapshot now covers them). */
  compactTo (index: number): void {
    if (index <= this.#base) return
    if (index > this.lastIndex) throw new Error(`cannot compact to ${index} past the last index ${this.lastIndex}`)
    this.#baseEpoch = this.epochAt(index) as number
    this.#entries.splice(0, index - this.#base)
    this.#base = index
  }

  /** Starts over from a snapshot at (index, epoch), with no entries after it. */
  resetTo (index: number, epoch: number): void {
    this.#entries = []
    this.#base = index
    this.#baseEpoch = epoch
  }
}
