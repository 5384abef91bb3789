import { LuaScript } from '../../../../shared/src/pipeline/script.js'
import type { Redis } from '../../../../shared/src/redis.js'
import type { FeedEvent } from '../core/event.js'
import { feedError } from '../errors.js'

// ARGV: account, amount, maxEvents (0 = no cap). The length check and the append are one step.
const appendScript = new LuaScript(`
local max = tonumber(ARGV[3])
if max > 0 and redis.call('XLEN', KEYS[1]) >= max then
  return redis.error_reply('FEEDFULL the feed holds its maximum of ' .. ARGV[3] .. ' events')
end
return redis.call('XADD', KEYS[1], '*', 'account', ARGV[1], 'amount', ARGV[2])
`)

/** Appends events to the feed stream; the entry id is the input id. */
export class FeedStream {
  readonly #redis: Redis
  readonly #key: string
  readonly #maxEvents: number

  constructor (redis: Redis, key: string, maxEvents: number) {
    this.#redis = redis
    this.#key = key
    this.#maxEvents = maxEvents
  }

  async append (event: FeedEvent): Promise<string> {
    try {
      return await appendScript.run(this.#redis, [this.#key], [event.account, String(event.amount), this.#maxEvents]) as string
    } catch (err) {
      const message = (err as Error).message
      if (message.startsWith('FEEDFULL')) throw feedError('FEED_ERR_FULL', message.slice('FEEDFULL '.length))
      if (message.startsWith('OOM')) throw feedError('FEED_ERR_FULL', 'redis is out of memory: the event was not appended', { cause: err })
      throw feedError('FEED_ERR_UNAVAILABLE', `the feed stream is unreachable: the event was not appended (${message})`, { cause: err })
    }
  }

  async length (): Promise<number> {
    return await this.#redis.xlen(this.#key)
  }
}
