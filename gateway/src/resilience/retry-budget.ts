export interface RetryBudgetPolicy {
  /** Retries allowed as a fraction of requests over the window. @default 0.2 */
  ratio: number
  /** Retries always allowed per second, so a quiet gateway can still retry. @default 10 */
  minPerSecond: number
  /** @default 10000 */
  windowMs: number
}

const defaultRetryBudget: RetryBudgetPolicy = { ratio: 0.2, minPerSecond: 10, windowMs: 10_000 }

const slots = 10

/**
 * Caps retries at a fraction of recent traffic plus a small reserve (Finagle's retry budget):
 * when one instance dies, the burst of retries it causes fits in the reserve, but during an
 * outage retries can never add more than `ratio` to the load on what is left. Time comes in as
 * an argument: ten slots of `windowMs / 10` each.
 */
export class RetryBudget {
  readonly #policy: RetryBudgetPolicy
  readonly #slotMs: number
  readonly #requests = new Array<number>(slots).fill(0)
  readonly #retries = new Array<number>(slots).fill(0)
  #slotStart = 0
  #current = 0

  constructor (policy: RetryBudgetPolicy = defaultRetryBudget) {
    this.#policy = policy
    this.#slotMs = policy.windowMs / slots
  }

  requestStarted (now: number): void {
    this.#advance(now)
    this.#requests[this.#current]! += 1
  }

  /** Spends one retry if the budget allows. */
  tryAcquireRetry (now: number): boolean {
    this.#advance(now)
    const requests = this.#requests.reduce((a, b) => a + b, 0)
    const retries = this.#retries.reduce((a, b) => a + b, 0)
    const allowed = this.#policy.ratio * requests + this.#policy.minPerSecond * (this.#policy.windowMs / 1_000)
    if (retries + 1 > allowed) return false
    this.#retries[this.#current]! += 1
    return true
  }

  #advance (now: number): void {
    if (this.#slotStart === 0) this.#slotStart = now
    let steps = Math.floor((now - this.#slotStart) / this.#slotMs)
    if (steps <= 0) return
    this.#slotStart += steps * this.#slotMs
    if (steps > slots) steps = slots
    for (let i = 0; i < steps; i++) {
      this.#current = (this.#current + 1) % slots
      this.#requests[this.#current] = 0
      this.#retries[this.#current] = 0
    }
  }
}
