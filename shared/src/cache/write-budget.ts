/**
 * A byte budget for what one process writes to a shared store with expiring entries (the
 * gateway's response cache in Redis): a write is allowed while the bytes it wrote that have not
 * yet expired, plus this one, stay within `maxBytes`. Overwrites are counted twice, so the
 * estimate only errs high. Pure: time comes in as an argument. Expiries are kept per second, so
 * the bookkeeping is bounded by the longest TTL in seconds, not by the number of writes.
 */
export class WriteBudget {
  readonly maxBytes: number
  #used = 0
  /** Expiry second → bytes expiring then; `#heap` orders the seconds. */
  readonly #bySecond = new Map<number, number>()
  readonly #heap: number[] = []

  constructor (maxBytes: number) {
    this.maxBytes = maxBytes
  }

  /** Bytes written and not yet expired, as of the last call. */
  get usedBytes (): number { return this.#used }

  /** Spends `bytes` for an entry living `ttlMs` from `now`, if the budget allows it. */
  tryReserve (bytes: number, now: number, ttlMs: number): boolean {
    this.#expire(now)
    if (this.#used + bytes > this.maxBytes) return false
    this.#used += bytes
    // rounded up: an entry is counted until the end of the second it expires in
    const second = Math.ceil((now + ttlMs) / 1_000)
    const current = this.#bySecond.get(second)
    if (current === undefined) {
      this.#bySecond.set(second, bytes)
      this.#push(second)
    } else {
      this.#bySecond.set(second, current + bytes)
    }
    return true
  }

  #expire (now: number): void {
    const second = now / 1_000
    while (this.#heap.length > 0 && this.#heap[0]! <= second) {
      const top = this.#pop()
      this.#used -= this.#bySecond.get(top) ?? 0
      this.#bySecond.delete(top)
    }
  }

  #push (value: number): void {
    const h = this.#heap
    h.push(value)
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1
      if (h[parent]! <= h[i]!) break
      ;[h[parent], h[i]] = [h[i]!, h[parent]!]
      i = parent
    }
  }

  #pop (): number {
    const h = this.#heap
    const top = h[0]!
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      for (let i = 0; ;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && h[l]! < h[m]!) m = l
        if (r < h.length && h[r]! < h[m]!) m = r
        if (m === i) break
        ;[h[m], h[i]] = [h[i]!, h[m]!]
        i = m
      }
    }
    return top
  }
}
