/**
 * A hybrid logical clock (Kulkarni et al., 2014): a wall-clock millisecond `t` plus a logical
 * counter `c`. `tick` stamps a local event; `receive` folds in a timestamp seen from another
 * replica, so any event stamped after it here orders after it, however far behind our wall
 * clock is. Pure: the physical clock is passed in.
 */
export interface HlcTimestamp {
  /** Milliseconds since the epoch (the largest physical time seen). */
  readonly t: number
  /** Orders events within the same `t`. */
  readonly c: number
}

const zeroTimestamp: HlcTimestamp = { t: 0, c: 0 }

/** The timestamp for a new local event at physical time `nowMs`. */
export function tick (last: HlcTimestamp, nowMs: number): HlcTimestamp {
  if (nowMs > last.t) return { t: nowMs, c: 0 }
  return { t: last.t, c: last.c + 1 }
}

/** The clock after seeing `remote` at physical time `nowMs`: never behind either of them. */
export function receive (last: HlcTimestamp, remote: HlcTimestamp, nowMs: number): HlcTimestamp {
  const t = Math.max(last.t, remote.t, nowMs)
  if (t === last.t && t === remote.t) return { t, c: Math.max(last.c, remote.c) + 1 }
  if (t === last.t) return { t, c: last.c + 1 }
  if (t === remote.t) return { t, c: remote.c + 1 }
  return { t, c: 0 }
}

/** A mutable clock around the pure functions, with an injectable physical clock. */
export class HybridClock {
  #last: HlcTimestamp = zeroTimestamp
  readonly #now: () => number

  constructor (now: () => number) {
    this.#now = now
  }

  get last (): HlcTimestamp { return this.#last }

  now (): HlcTimestamp {
    this.#last = tick(this.#last, this.#now())
    return this.#last
  }

  observe (remote: HlcTimestamp): void {
    if (compareTimestamps(remote, this.#last) <= 0) return
    this.#last = receive(this.#last, remote, this.#now())
  }
}

export function compareTimestamps (a: HlcTimestamp, b: HlcTimestamp): number {
  if (a.t !== b.t) return a.t < b.t ? -1 : 1
  if (a.c !== b.c) return a.c < b.c ? -1 : 1
  return 0
}
