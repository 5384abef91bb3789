export interface HealthPolicy {
  /** Consecutive passing checks that mark an unhealthy upstream healthy. @default 2 */
  rise: number
  /** Consecutive failing checks that mark a healthy upstream unhealthy. @default 2 */
  fall: number
}

/**
 * Active health with hysteresis (HAProxy's rise/fall): a single lost probe changes nothing.
 * A new upstream starts healthy: it registered only after it was listening.
 */
export class HealthState {
  readonly #policy: HealthPolicy
  #healthy = true
  #streak = 0

  constructor (policy: HealthPolicy = { rise: 2, fall: 2 }) {
    this.#policy = policy
  }

  get healthy (): boolean { return this.#healthy }

  /** Records one probe; returns the new state when it changed, else undefined. */
  observe (passed: boolean): 'healthy' | 'unhealthy' | undefined {
    if (passed === this.#healthy) {
      this.#streak = 0
      return undefined
    }
    this.#streak += 1
    const needed = this.#healthy ? this.#policy.fall : this.#policy.rise
    if (this.#streak < needed) return undefined
    this.#healthy = passed
    this.#streak = 0
    return passed ? 'healthy' : 'unhealthy'
  }
}
