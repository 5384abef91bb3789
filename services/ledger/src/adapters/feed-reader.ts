import type { Redis } from '../../../../shared/src/redis.js'

export interface FeedEntry { id: string, fields: string[] }

/** Reads the feed stream in order from a cursor, blocking briefly at its end. Needs its own connection. */
export class FeedReader {
  readonly #redis: Redis
  readonly #key: string

  constructor (redis: Redis, key: string) {
    this.#redis = redis
    this.#key = key
  }

  /** Entries after `cursor` (`'0-0'` for the start), at most `count`, waiting up to `blockMs` for one. */
  async read (cursor: string, count: number, blockMs: number): Promise<FeedEntry[]> {
    const reply = await this.#redis.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.#key, cursor)
    const entries = reply?.[0]?.[1] ?? []
    return entries.map(([id, fields]) => ({ id, fields }))
  }

  /** Ends a blocked read at once (its connection is this reader's alone). */
  close (): void {
    this.#redis.disconnect()
  }
}
