/**
 * Slow start (Envoy's slow-start mode, HAProxy's `slowstart`): an instance that has just been
 * admitted (it started, restarted, or came back after an ejection or failed health checks) gets
 * a share of traffic that ramps up over a window, so a cold JIT, an empty cache or a replica
 * still catching up does not take a full share at once. Pure: time comes in as an argument.
 */
export interface SlowStartPolicy {
  /** The ramp's length; 0 turns slow start off. @default 5000 */
  windowMs: number
  /** Shape of the ramp: 1 is linear, more ramps faster at first (Envoy's `aggression`). @default 1 */
  aggression: number
  /** The weight at the start of the ramp, so a new instance is never starved. @default 0.1 */
  minWeight: number
}

/**
 * The share (0..1] of a full weight an instance admitted `sinceMs` ago gets:
 * max(minWeight, (t / window)^(1 / aggression)), as Envoy computes it; 1 once the window is over.
 */
export function slowStartWeight (sinceMs: number, policy: SlowStartPolicy): number {
  if (policy.windowMs <= 0 || sinceMs >= policy.windowMs) return 1
  const progress = Math.max(0, sinceMs) / policy.windowMs
  return Math.max(policy.minWeight, progress ** (1 / policy.aggression))
}

/**
 * When one instance was last admitted: the first moment the balancer sees it available after it
 * was unavailable (or unseen) starts a ramp, and so does an explicit re-admission (active health
 * checks passing again, which happens with no traffic to see it).
 */
export class Admission {
  #admittedAt = 0
  #out = true

  /** Starts a ramp at `now`. */
  admit (now: number): void {
    this.#out = false
    this.#admittedAt = now
  }

  /** Records whether the instance is available at `now`; true when that starts a ramp (it was out). */
  observe (available: boolean, now: number): boolean {
    if (!available) {
      this.#out = true
      return false
    }
    if (!this.#out) return false
    this.#out = false
    this.#admittedAt = now
    return true
  }

  /** The instance's weight at `now` under `policy` (1 when not in a ramp). */
  weight (now: number, policy: SlowStartPolicy): number {
    if (this.#out) return 1
    return slowStartWeight(now - this.#admittedAt, policy)
  }
}
