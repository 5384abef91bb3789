import { nearestRank } from '../../../shared/src/percentile.js'

/** Sub-buckets per power of two: quarter-octave resolution (±9 % error on a percentile). */
const perOctave = 4
const bucketCount = 26 * perOctave // 1 µs … ~67 s

export interface WindowSnapshot {
  /** Requests per second over the window. */
  rps: number
  p50Ms: number
  p99Ms: number
  /** Share of requests that failed (5xx or no response). */
  errorRate: number
  count: number
}

/**
 * Request rate and latency percentiles over a sliding window (slots of one second), in O(1)
 * per request: each slot is a log-scale histogram, so recording is a Math.log2 and an increment.
 * Pure: time comes in as an argument.
 */
export class RollingLatency {
  readonly #slotMs: number
  readonly #slots: Array<{ start: number, counts: Uint32Array, errors: number, total: number }>

  constructor ({ slots = 5, slotMs = 1_000 }: { slots?: number, slotMs?: number } = {}) {
    this.#slotMs = slotMs
    this.#slots = Array.from({ length: slots }, () => ({ start: -Infinity, counts: new Uint32Array(bucketCount), errors: 0, total: 0 }))
  }

  record (now: number, latencyMs: number, ok: boolean): void {
    const slot = this.#slot(now)
    const micros = Math.max(1, latencyMs * 1_000)
    const index = Math.min(bucketCount - 1, Math.floor(Math.log2(micros) * perOctave))
    slot.counts[index]! += 1
    slot.total += 1
    if (!ok) slot.errors += 1
  }

  snapshot (now: number): WindowSnapshot {
    const { merged, total, errors, seconds } = this.#merge(now)
    return {
      rps: total / Math.max(seconds, this.#slotMs / 1_000),
      p50Ms: percentile(merged, total, 0.5),
      p99Ms: percentile(merged, total, 0.99),
      errorRate: total === 0 ? 0 : errors / total,
      count: total
    }
  }

  /** The q-th percentile over the window (e.g. 0.95) and how many requests it is drawn from. */
  percentile (now: number, q: number): { percentileMs: number, count: number } {
    const { merged, total } = this.#merge(now)
    return { percentileMs: percentile(merged, total, q), count: total }
  }

  #merge (now: number): { merged: Uint32Array, total: number, errors: number, seconds: number } {
    const windowStart = now - this.#slotMs * this.#slots.length
    const merged = new Uint32Array(bucketCount)
    let total = 0
    let errors = 0
    let oldest = now
    for (const slot of this.#slots) {
      if (slot.start <= windowStart) continue
      oldest = Math.min(oldest, slot.start)
      total += slot.total
      errors += slot.errors
      for (let i = 0; i < bucketCount; i++) merged[i]! += slot.counts[i]!
    }
    return { merged, total, errors, seconds: Math.max(1, now - Math.max(oldest, windowStart)) / 1_000 }
  }

  #slot (now: number): { start: number, counts: Uint32Array, errors: number, total: number } {
    const start = now - (now % this.#slotMs)
    const slot = this.#slots[Math.floor(now / this.#slotMs) % this.#slots.length]!
    if (slot.start !== start) {
      slot.start = start
      slot.counts.fill(0)
      slot.errors = 0
      slot.total = 0
    }
    return slot
  }
}

/** The upper edge of the bucket holding the q-th sample, in ms. */
function percentile (counts: Uint32Array, total: number, q: number): number {
  if (total === 0) return 0
  const rank = nearestRank(total, q)
  let seen = 0
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!
    if (seen >= rank) return 2 ** ((i + 1) / perOctave) / 1_000
  }
  return 2 ** (counts.length / perOctave) / 1_000
}
