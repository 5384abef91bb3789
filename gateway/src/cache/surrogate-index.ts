import { LRUCache } from 'lru-cache'
import type { Logger } from '../../../shared/src/logger.js'
import type { Redis } from '../../../shared/src/redis.js'

/**
 * Which stored entries carry each surrogate key (`Surrogate-Key`), so that a service that
 * invalidates one of its own answers — it publishes its cache key on the cache's invalidation
 * channel — also drops every gateway entry built from it, whatever URL variations reached it.
 * Kept in this process (for the local tier) and in Redis (a set per surrogate key, for the
 * shared tier); every gateway hears the same message and purges both.
 */
export class SurrogateIndex {
  readonly #local = new LRUCache<string, Set<string>>({ max: 100_000 })
  readonly #redis: Redis
  readonly #prefix: string
  readonly #log: Logger | undefined
  readonly #fullKey: (key: string) => string
  readonly #reserve: ((fullKey: string, bytes: number, ttlMs: number) => boolean) | undefined

  /**
   * `fullKey` names a cache key in Redis; `reserve` says whether a write about it may go to Redis
   * (the cache's key-length limit and byte budget), and spends the budget.
   */
  constructor (redis: Redis, prefix: string, fullKey: (key: string) => string, log?: Logger, reserve?: (fullKey: string, bytes: number, ttlMs: number) => boolean) {
    this.#redis = redis
    this.#prefix = `${prefix}:cache:gateway:surrogate:`
    this.#fullKey = fullKey
    this.#log = log
    this.#reserve = reserve
  }

  /** Records that the entry at `key` carries `tags`, for as long as it may live. */
  add (key: string, tags: readonly string[], ttlMs: number): void {
    for (const tag of tags) {
      let keys = this.#local.get(tag)
      if (keys === undefined) {
        keys = new Set()
        this.#local.set(tag, keys)
      }
      keys.add(key)
      if (this.#redis.status !== 'ready') continue
      const set = this.#prefix + tag
      const member = this.#fullKey(key)
      if (this.#reserve !== undefined && !this.#reserve(member, Buffer.byteLength(set) + Buffer.byteLength(member), ttlMs)) continue
      this.#redis.multi().sadd(set, member).pexpire(set, Math.max(1, Math.ceil(ttlMs))).exec()
        .catch((err: unknown) => this.#log?.debug({ err: (err as Error).message }, 'surrogate index write failed'))
    }
  }

  /** Drops every entry tagged `tag`: `forgetLocal` for this process's tier, DEL for Redis. */
  async purge (tag: string, forgetLocal: (key: string) => void): Promise<number> {
    const local = this.#local.get(tag)
    this.#local.delete(tag)
    for (const key of local ?? []) forgetLocal(key)
    if (this.#redis.status !== 'ready') return local?.size ?? 0
    try {
      const set = this.#prefix + tag
      const keys = await this.#redis.smembers(set)
      await this.#redis.del(set, ...keys)
      return Math.max(keys.length, local?.size ?? 0)
    } catch (err) {
      this.#log?.debug({ err: (err as Error).message, tag }, 'surrogate purge in redis failed')
      return local?.size ?? 0
    }
  }
}
