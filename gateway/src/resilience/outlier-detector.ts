/** Why a try failed, as far as ejection cares. */
export type FailureKind = 'refused' | 'reset' | 'timeout' | 'status5xx'

export interface OutlierPolicy {
  /** Consecutive 5xx answers that eject. @default 5 */
  consecutive5xx: number
  /** First ejection; each repeat doubles it. @default 1000 */
  baseEjectionMs: number
  /** @default 30000 */
  maxEjectionMs: number
}

export const defaultOutlierPolicy: OutlierPolicy = { consecutive5xx: 5, baseEjectionMs: 1_000, maxEjectionMs: 30_000 }

/**
 * Passive outlier detection for one upstream (Envoy's outlier detection, simplified): a refused
 * or reset connection or a timeout ejects at once, N consecutive 5xx eject; the ejection time
 * doubles on every repeat and the multiplier is forgiven after a quiet spell. Time comes in as
 * an argument: no clock, no I/O.
 */
export class OutlierDetector {
  readonly #policy: OutlierPolicy
  #consecutive5xx = 0
  #ejections = 0
  #ejectedUntil = 0
  #lastEjectionAt = -Infinity

  constructor (policy: OutlierPolicy = defaultOutlierPolicy) {
    this.#policy = policy
  }

  get ejections (): number { return this.#ejections }

  isEjected (now: number): boolean {
    return now < this.#ejectedUntil
  }

  /** ms until re-admission, 0 when admitted. */
  remainingMs (now: number): number {
    return Math.max(0, this.#ejectedUntil - now)
  }

  onSuccess (now: number): void {
    this.#consecutive5xx = 0
    if (this.#ejections > 0 && now - this.#lastEjectionAt > this.#policy.maxEjectionMs) this.#ejections = 0
  }

  /** Records a failure; returns true when it calls for an ejection (the caller may veto it). */
  onFailure (kind: FailureKind, now: number): boolean {
    if (this.isEjected(now)) return false
    if (kind === 'status5xx') {
      this.#consecutive5xx += 1
      return this.#consecutive5xx >= this.#policy.consecutive5xx
    }
    return true
  }

  /** Ejects now; returns how long for. */
  eject (now: number): number {
    this.#ejections += 1
    this.#consecutive5xx = 0
    const ms = Math.min(this.#policy.maxEjectionMs, this.#policy.baseEjectionMs * 2 ** (this.#ejections - 1))
    this.#ejectedUntil = now + ms
    this.#lastEjectionAt = now
    return ms
  }

  /** Re-admits early, e.g. when active health checks see it healthy again after a restart. */
  readmit (): void {
    this.#ejectedUntil = 0
  }
}
