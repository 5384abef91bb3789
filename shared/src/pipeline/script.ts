import { createHash } from 'node:crypto'
import type { Redis } from '../redis.js'

/**
 * A Lua script run by its SHA (EVALSHA), falling back to EVAL once when Redis does not have it
 * yet (first use, or after a Redis restart): hot paths then send 40 bytes, not the whole script.
 */
export class LuaScript {
  readonly #source: string
  readonly #sha: string

  constructor (source: string) {
    this.#source = source
    this.#sha = createHash('sha1').update(source).digest('hex')
  }

  async run (redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args)
    } catch (err) {
      if (!(err as Error).message.startsWith('NOSCRIPT')) throw err
      return await redis.eval(this.#source, keys.length, ...keys, ...args)
    }
  }
}
