import { compareInputIds, type OutputCore } from '../../../../shared/src/pipeline/types.js'

/**
 * Outputs not yet known to be at the sink, in feed order. The hot sends its head and drops it
 * once acknowledged; the warm keeps it too, trimmed to the sink's high-water mark, so on
 * takeover it can re-emit everything after that mark without replaying the feed.
 */
export class Outbox {
  #items: OutputCore[] = []
  #head = 0

  get size (): number { return this.#items.length - this.#head }

  push (output: OutputCore): void {
    this.#items.push(output)
  }

  /** Up to `max` outputs from the head, oldest first. */
  peek (max: number): OutputCore[] {
    return this.#items.slice(this.#head, this.#head + max)
  }

  /** Drops every output with an input id ≤ `inputId` (acknowledged, or below the sink's mark). */
  trimThrough (inputId: string): number {
    const before = this.size
    while (this.#head < this.#items.length && compareInputIds((this.#items[this.#head] as OutputCore).inputId, inputId) <= 0) this.#head++
    // compact now and then rather than shifting on every ack
    if (this.#head > 4_096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return before - this.size
  }
}
