/**
 * Why a try failed, as far as ejection cares: `refused`, `reset` and `timeout` are errors of
 * local origin (the gateway saw the connection fail or the clock run out), `status5xx` is the
 * instance's own answer. Only failures the instance is to blame for ever get here: a client that
 * left, a body over the limit or a request undici cannot send are sorted out before (failure.ts).
 */
export type FailureKind = 'refused' | 'reset' | 'timeout' | 'status5xx'

export interface OutlierPolicy {
  /** Consecutive 5xx answers that eject. @default 5 */
  consecutive5xx: number
  /** Consecutive refused/reset/timed-out tries that eject. @default 5 */
  consecutiveLocalOrigin: number
  /** Share of failed tries over the last 10 s that ejects (0 turns it off). @default 0.85 */
  failureRate: number
  /** Tries in the last 10 s below which the failure rate is not judged. @default 50 */
  failureRateMinRequests: number
  /** First ejection; each repeat doubles it. @default 1000 */
  baseEjectionMs: number
  /** @default 30000 */
  maxEjectionMs: number
}

export const defaultOutlierPolicy: OutlierPolicy = {
  consecutive5xx: 5,
  consecutiveLocalOrigin: 5,
  failureRate: 0.85,
  failureRateMinRequests: 50,
  baseEjectionMs: 1_000,
  maxEjectionMs: 30_000
}

const slots = 10
const slotMs = 1_000 // ten slots of a second: the failure rate is judged over the last 10 s

/**
 * Passive outlier detection for one upstream, as Envoy does it with `split_external_local_origin_errors`:
 * errors of local origin (refused, reset, timeout) and the instance's 5xx answers are counted
 * apart, and either run of `consecutive*` failures ejects, as does a failure rate over a 10 s
 * window once enough tries were seen. One failure never ejects: a single timeout may be the
 * request's own doing (`?delay=`), and a healthy instance must not pay for it. The ejection
 * time doubles on every repeat and the multiplier is forgiven after a quiet spell. Time comes in
 * as an argument: no clock, no I/O.
 */
export class OutlierDetector {
  readonly #policy: OutlierPolicy
  #consecutive5xx = 0
  #consecutiveLocal = 0
  #ejections = 0
  #ejectedUntil = 0
  #lastEjectionAt = -Infinity
  readonly #tries = new Array<number>(slots).fill(0)
  readonly #failures = new Array<number>(slots).fill(0)
  #slotStart = -Infinity
  #current = 0

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

  /** A try the instance answered with anything but a 5xx. */
  onSuccess (now: number): void {
    this.#consecutive5xx = 0
    this.#consecutiveLocal = 0
    this.#count(now, false)
    if (this.#ejections > 0 && now - this.#lastEjectionAt > this.#policy.maxEjectionMs) this.#ejections = 0
  }

  /** Records a failure; returns true when it calls for an ejection (the caller may veto it). */
  onFailure (kind: FailureKind, now: number): boolean {
    if (this.isEjected(now)) return false
    this.#count(now, true)
    if (kind === 'status5xx') {
      this.#consecutive5xx += 1
      // the connection worked and the instance answered: a success as far as local origin goes
      this.#consecutiveLocal = 0
      if (this.#consecutive5xx >= this.#policy.consecutive5xx) return true
    } else {
      this.#consecutiveLocal += 1
      if (this.#consecutiveLocal >= this.#policy.consecutiveLocalOrigin) return true
    }
    return this.#failureRateExceeded()
  }

  /** Ejects now; returns how long for. */
  eject (now: number): number {
    this.#ejections += 1
    this.#consecutive5xx = 0
    this.#consecutiveLocal = 0
    // judged afresh when it comes back, not on the failures that ejected it
    this.#tries.fill(0)
    this.#failures.fill(0)
    const ms = Math.min(this.#policy.maxEjectionMs, this.#policy.baseEjectionMs * 2 ** (this.#ejections - 1))
    this.#ejectedUntil = now + ms
    this.#lastEjectionAt = now
    return ms
  }

  /** Re-admits early, e.g. when active health checks see it healthy again after a restart. */
  readmit (): void {
    this.#ejectedUntil = 0
  }

  #failureRateExceeded (): boolean {
    if (this.#policy.failureRate <= 0) return false
    let tries = 0
    let failures = 0
    for (let i = 0; i < slots; i++) {
      tries += this.#tries[i]!
      failures += this.#failures[i]!
    }
    return tries >= this.#policy.failureRateMinRequests && failures >= this.#policy.failureRate * tries
  }

  #count (now: number, failed: boolean): void {
    if (now - this.#slotStart >= slotMs) this.#advance(now)
    this.#tries[this.#current]! += 1
    if (failed) this.#failures[this.#current]! += 1
  }

  #advance (now: number): void {
    if (this.#slotStart === -Infinity) {
      this.#slotStart = now
      return
    }
    const steps = Math.min(slots, Math.floor((now - this.#slotStart) / slotMs))
    this.#slotStart += Math.floor((now - this.#slotStart) / slotMs) * slotMs
    for (let i = 0; i < steps; i++) {
      this.#current = (this.#current + 1) % slots
      this.#tries[this.#current] = 0
      this.#failures[this.#current] = 0
    }
  }
}
