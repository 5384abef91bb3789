export interface RetryBudgetPolicy {
  /** Retries in flight allowed as a fraction of requests in flight. @default 0.2 */
  ratio: number
  /** Retries always allowed in flight, so a quiet gateway can still retry. @default 3 */
  minConcurrent: number
}

/**
 * Caps retries at a fraction of live traffic (Envoy's retry budget), so that during an outage
 * retries cannot multiply the load on what is left.
 */
export class RetryBudget {
  readonly #policy: RetryBudgetPolicy
  #active = 0
  #retrying = 0

  constructor (policy: RetryBudgetPolicy = { ratio: 0.2, minConcurrent: 3 }) {
    this.#policy = policy
  }

  get active (): number { return this.#active }
  get retrying (): number { return this.#retrying }

  requestStarted (): void { this.#active += 1 }
  requestFinished (): void { this.#active = Math.max(0, this.#active - 1) }

  /** Takes a retry slot if the budget allows; the caller must `retryFinished()` it. */
  tryAcquireRetry (): boolean {
    const allowed = Math.max(this.#policy.minConcurrent, Math.floor(this.#policy.ratio * this.#active))
    if (this.#retrying >= allowed) return false
    this.#retrying += 1
    return true
  }

  retryFinished (): void { this.#retrying = Math.max(0, this.#retrying - 1) }
}
