import type { Redis } from '../../../../shared/src/redis.js'
import { confirmSeenReplicated, markBeforeWrite } from '../../../../shared/src/redis-replication.js'

export interface FeedEntry { id: string, fields: string[] }

export interface FeedReaderOptions {
  /** The feed stream's key. */
  key: string
  /** Written before the WAIT that confirms what was read (`confirmSeenReplicated`). */
  fenceKey: string
  /** How long that WAIT may take. */
  waitMs: number
}

/**
 * Reads the feed stream in order from a cursor, blocking briefly at its end. Needs its own
 * connection. Behind Sentinel, entries are returned only once the Redis replica has them: an
 * entry the feed appended but a failover then lost (it was never acknowledged) must not reach
 * the balances, or every later output of its account would carry a balance the feed no longer
 * implies. With one Redis that check costs nothing.
 */
export class FeedReader {
  readonly #redis: Redis
  readonly #o: FeedReaderOptions

  constructor (redis: Redis, options: FeedReaderOptions) {
    this.#redis = redis
    this.#o = options
  }

  /** Entries after `cursor` (`'0-0'` for the start), at most `count`, waiting up to `blockMs` for one. Throws when they are not confirmed. */
  async read (cursor: string, count: number, blockMs: number): Promise<FeedEntry[]> {
    const mark = markBeforeWrite(this.#redis)
    const reply = await this.#redis.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.#o.key, cursor)
    const entries = reply?.[0]?.[1] ?? []
    if (entries.length > 0) await confirmSeenReplicated(this.#redis, mark, this.#o.fenceKey, { timeoutMs: this.#o.waitMs })
    return entries.map(([id, fields]) => ({ id, fields }))
  }

  /** Ends a blocked read at once (its connection is this reader's alone). */
  close (): void {
    this.#redis.disconnect()
  }
}
