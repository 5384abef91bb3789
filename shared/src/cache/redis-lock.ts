import { randomBytes } from 'node:crypto'
import type { Redis } from '../redis.js'

/** Deletes the lock only if it still holds our token: never releases a lock another holder took after ours expired. */
const extendScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
const releaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

/**
 * A short lease in Redis (SET NX PX) that makes other instances wait for one computation
 * instead of repeating it. It is advisory: if the holder dies the lease simply expires, and
 * a waiter that gives up computes by itself, so a lost lock costs work, never correctness.
 */
export class RedisLock {
  readonly #redis: Redis
  readonly key: string
  readonly #token = randomBytes(8).toString('hex')

  constructor (redis: Redis, key: string) {
    this.#redis = redis
    this.key = key
  }

  /** True when we now hold the lease for `ttlMs`. Throws when Redis is unreachable. */
  async acquire (ttlMs: number): Promise<boolean> {
    return (await this.#redis.set(this.key, this.#token, 'PX', ttlMs, 'NX')) === 'OK'
  }

  /** Renews our lease (a long computation keeps it); false when it was lost meanwhile. */
  async extend (ttlMs: number): Promise<boolean> {
    return (await this.#redis.eval(extendScript, 1, this.key, this.#token, String(ttlMs))) === 1
  }

  async release (): Promise<void> {
    await this.#redis.eval(releaseScript, 1, this.key, this.#token)
  }
}
