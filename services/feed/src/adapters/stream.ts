import { LuaScript } from '../../../../shared/src/pipeline/script.js'
import { waitReady, type Redis } from '../../../../shared/src/redis.js'
import { confirmReplicated, markBeforeWrite, mayHaveWritten } from '../../../../shared/src/redis-replication.js'
import { eventFingerprint, type FeedEvent } from '../core/event.js'
import { feedError } from '../errors.js'

/*
 * KEYS: stream, idempotency key. ARGV: account, amount, maxEvents (0 = no cap), '1' when a key
 * was given, the event's fingerprint, the key's time to live (s). One step: a key already seen
 * returns the id it recorded (and is written again, so the WAIT that follows covers the first
 * append too, whichever connection made it); else the length check, the append, and the key
 * (`<id>\t<fingerprint>`), lost or kept together in a failover.
 */
const appendScript = new LuaScript(`
if ARGV[4] == '1' then
  local seen = redis.call('GET', KEYS[2])
  if seen then
    redis.call('EXPIRE', KEYS[2], ARGV[6])
    local tab = string.find(seen, '\\t', 1, true)
    return {'seen', string.sub(seen, 1, tab - 1), string.sub(seen, tab + 1)}
  end
end
local max = tonumber(ARGV[3])
if max > 0 and redis.call('XLEN', KEYS[1]) >= max then
  return redis.error_reply('FEEDFULL the feed holds its maximum of ' .. ARGV[3] .. ' events')
end
local id = redis.call('XADD', KEYS[1], '*', 'account', ARGV[1], 'amount', ARGV[2])
if ARGV[4] == '1' then redis.call('SET', KEYS[2], id .. '\\t' .. ARGV[5], 'EX', ARGV[6]) end
return {'new', id, ARGV[5]}
`)

/** How much earlier than the caller's deadline an append gives up waiting for Redis. */
const deadlineSlackMs = 50

export interface FeedStreamOptions {
  /** The stream's key. */
  key: string
  /** The Redis key that records an idempotency key's event. */
  idempotencyKey: (key: string) => string
  maxEvents: number
  /** How long an idempotency key is remembered. */
  idempotencyTtlS: number
  /** How long an append waits for the Redis replica to confirm it (with Sentinel only). */
  waitMs: number
  /**
   * How long an append whose Redis is unreachable waits for it to come back (a restart takes
   * about a second), never past its caller's deadline.
   */
  reconnectWaitMs: number
}

/** What an append did: `created` false when an idempotency key had already appended it. */
export type AppendResult =
  | { created: boolean, id: string }
  | { conflict: true, id: string }

/**
 * Appends events to the feed stream; the entry id is the input id. An append is answered only
 * once the Redis replica has it (`confirmReplicated`; no round trip with one Redis): an
 * acknowledged event survives a failover. Otherwise the outcome is unknown, and a client retries
 * with its Idempotency-Key to append at most once.
 */
export class FeedStream {
  readonly #redis: Redis
  readonly #o: FeedStreamOptions

  constructor (redis: Redis, options: FeedStreamOptions) {
    this.#redis = redis
    this.#o = options
  }

  /**
   * Appends, riding out a Redis that is briefly away: an append that certainly did not reach
   * Redis (the connection was down) — or one that may have, when an Idempotency-Key makes a
   * repeat harmless — is tried again once Redis is back, within `reconnectWaitMs` and the
   * caller's `deadline` (epoch ms).
   */
  async append (event: FeedEvent, idempotencyKey?: string, deadline?: number): Promise<AppendResult> {
    const giveUp = Math.min(Date.now() + this.#o.reconnectWaitMs, (deadline ?? Infinity) - deadlineSlackMs)
    for (;;) {
      try {
        return await this.#appendOnce(event, idempotencyKey)
      } catch (err) {
        const code = (err as { code?: string }).code
        const repeatable = code === 'FEED_ERR_UNAVAILABLE' || (code === 'FEED_ERR_OUTCOME_UNKNOWN' && idempotencyKey !== undefined)
        const left = giveUp - Date.now()
        if (!repeatable || left <= 0 || !(await waitReady(this.#redis, left))) throw err
      }
    }
  }

  async #appendOnce (event: FeedEvent, idempotencyKey?: string): Promise<AppendResult> {
    const fp = eventFingerprint(event)
    const mark = markBeforeWrite(this.#redis)
    let reply: [string, string, string]
    try {
      reply = await appendScript.run(this.#redis, [this.#o.key, this.#o.idempotencyKey(idempotencyKey ?? '')],
        [event.account, String(event.amount), this.#o.maxEvents, idempotencyKey === undefined ? '' : '1', fp, this.#o.idempotencyTtlS]) as [string, string, string]
      await confirmReplicated(this.#redis, mark, { timeoutMs: this.#o.waitMs })
    } catch (err) {
      const message = (err as Error).message
      if (message.startsWith('FEEDFULL')) throw feedError('FEED_ERR_FULL', message.slice('FEEDFULL '.length))
      if (message.startsWith('OOM')) throw feedError('FEED_ERR_FULL', 'redis is out of memory: the event was not appended', { cause: err })
      if (mayHaveWritten(err)) {
        throw feedError('FEED_ERR_OUTCOME_UNKNOWN', `the event may or may not have been appended (${message}); retry with the same Idempotency-Key to append it at most once`, { cause: err })
      }
      throw feedError('FEED_ERR_UNAVAILABLE', `the feed stream is unreachable: the event was not appended (${message})`, { cause: err })
    }
    const [kind, id, storedFp] = reply
    if (kind === 'seen' && storedFp !== fp) return { conflict: true, id }
    return { created: kind === 'new', id }
  }

  async length (): Promise<number> {
    return await this.#redis.xlen(this.#o.key)
  }
}
