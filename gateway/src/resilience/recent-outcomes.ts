/**
 * The last `size` outcomes of something (yes or no) and how many of them were yes: a ring, O(1)
 * per outcome. Counted, not timed, so a trickle of outcomes still replaces old ones however
 * slowly they come.
 */
export class RecentOutcomes {
  readonly #ring: Uint8Array
  #next = 0
  #known = 0
  #yes = 0

  constructor (size: number) {
    this.#ring = new Uint8Array(size)
  }

  /** One outcome, counted `times` times (an outcome sampled one in `times` stands for all of them). */
  add (yes: boolean, times = 1): void {
    for (let i = 0; i < times; i++) {
      if (this.#known === this.#ring.length) this.#yes -= this.#ring[this.#next]!
      else this.#known += 1
      this.#ring[this.#next] = yes ? 1 : 0
      this.#yes += yes ? 1 : 0
      this.#next = (this.#next + 1) % this.#ring.length
    }
  }

  /** How many outcomes are known (at most `size`) and how many of them were yes. */
  get counts (): { known: number, yes: number } {
    return { known: this.#known, yes: this.#yes }
  }
}
