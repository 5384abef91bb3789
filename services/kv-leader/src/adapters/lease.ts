import type { Redis } from '../../../../shared/src/redis.js'
import type { LogPosition } from '../core/types.js'

/**
 * Leadership as a lease in Redis with a fencing epoch. Every replica publishes its log position
 * (epoch, index) in one hash, each field stamped with an expiry in Redis time; a replica may take
 * a free lease only if its log is at least as up to date as every live replica's and a majority
 * of positions is visible, and taking it INCRs the epoch in the same script (past any epoch a
 * replica reports, so a Redis that restarted empty cannot hand out an old epoch again). Times here come from a monotonic clock: a holder counts
 * its lease valid until (the instant it *sent* the renewal) + TTL, which is never later than
 * Redis's expiry.
 */

// A status field is "logEpoch,logIndex,expiresAtMs,knownEpoch" (Redis time).
// KEYS: status hash; ARGV: id, epoch, index, ttlMs, knownEpoch
const publishScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ',' .. ARGV[3] .. ',' .. (now + tonumber(ARGV[4])) .. ',' .. ARGV[5])
return now`

// KEYS: lease, epoch counter, status hash; ARGV: id, epoch, index, ttlMs, mayAcquire, knownEpoch, quorum
const tickScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[4])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2] .. ',' .. ARGV[3] .. ',' .. (now + ttl) .. ',' .. ARGV[6])
local holder = redis.call('GET', KEYS[1])
if holder then return {'held', holder} end
if ARGV[5] ~= '1' then return {'free', ''} end
local myEpoch = tonumber(ARGV[2])
local myIndex = tonumber(ARGV[3])
local newest = tonumber(ARGV[6])
local live = 1
local all = redis.call('HGETALL', KEYS[3])
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] then
    local e, idx, exp, known = string.match(all[i + 1], '^(%d+),(%d+),(%d+),(%d+)$')
    if e and tonumber(exp) > now then
      e = tonumber(e)
      idx = tonumber(idx)
      if e > myEpoch or (e == myEpoch and idx > myIndex) then return {'behind', all[i]} end
      live = live + 1
      if tonumber(known) > newest then newest = tonumber(known) end
    else
      redis.call('HDEL', KEYS[3], all[i])
    end
  end
end
-- a majority of positions must be visible: one of them holds every committed entry
if live < tonumber(ARGV[7]) then return {'free', ''} end
local epoch = redis.call('INCR', KEYS[2])
-- Redis may have restarted empty: the epoch must still pass every epoch a replica has seen
if epoch <= newest then
  epoch = newest + 1
  redis.call('SET', KEYS[2], epoch)
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. epoch, 'PX', ttl)
return {'acquired', tostring(epoch)}`

// KEYS: lease, status hash; ARGV: holder value, ttlMs, id, epoch, index, knownEpoch
const renewScript = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4] .. ',' .. ARGV[5] .. ',' .. (now + tonumber(ARGV[2])) .. ',' .. ARGV[6])
return 1`

// KEYS: lease; ARGV: holder value
const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

export type TickResult =
  | { kind: 'acquired', epoch: number, validUntil: number }
  | { kind: 'held', holder: string, epoch: number }
  | { kind: 'free' }
  | { kind: 'behind', than: string }

export interface LeaseOptions {
  redis: Redis
  /** Key prefix shared by the replica set, e.g. `nines:kv-leader`. */
  prefix: string
  id: string
  ttlMs: number
  now?: () => number
}

export class LeaderLease {
  readonly #o: Required<LeaseOptions>
  readonly #keys: { lease: string, epoch: string, status: string }

  constructor (opts: LeaseOptions) {
    this.#o = { now: () => performance.now(), ...opts }
    this.#keys = { lease: `${opts.prefix}:lease`, epoch: `${opts.prefix}:epoch`, status: `${opts.prefix}:status` }
  }

  /**
   * Publishes this replica's log position; then, when the lease is free and we may, tries to
   * take it: only with a log at least as up to date as every live replica's, and only while a
   * majority (`quorum`) of positions is visible.
   */
  async tick (position: LogPosition, knownEpoch: number, quorum: number, mayAcquire = true): Promise<TickResult> {
    const t0 = this.#o.now()
    const [kind, arg] = await this.#o.redis.eval(tickScript, 3, this.#keys.lease, this.#keys.epoch, this.#keys.status,
      this.#o.id, position.epoch, position.index, this.#o.ttlMs, mayAcquire ? '1' : '0', knownEpoch, quorum) as [string, string]
    if (kind === 'acquired') return { kind, epoch: Number(arg), validUntil: t0 + this.#o.ttlMs }
    if (kind === 'held') {
      const [holder = '', epoch = '0'] = arg.split('|')
      return { kind, holder, epoch: Number(epoch) }
    }
    if (kind === 'behind') return { kind, than: arg }
    return { kind: 'free' }
  }

  /** Extends the lease if we still hold it for `epoch`; returns the new validity or undefined. */
  async renew (epoch: number, position: LogPosition): Promise<number | undefined> {
    const t0 = this.#o.now()
    const ok = await this.#o.redis.eval(renewScript, 2, this.#keys.lease, this.#keys.status,
      `${this.#o.id}|${epoch}`, this.#o.ttlMs, this.#o.id, position.epoch, position.index, epoch)
    return ok === 1 ? t0 + this.#o.ttlMs : undefined
  }

  /** Publishes the log position (a follower does so before acknowledging entries). */
  async publish (position: LogPosition, knownEpoch: number): Promise<void> {
    await this.#o.redis.eval(publishScript, 1, this.#keys.status, this.#o.id, position.epoch, position.index, this.#o.ttlMs, knownEpoch)
  }

  /** Gives the lease up at once (graceful shutdown), so a successor need not wait for the TTL. */
  async release (epoch: number): Promise<void> {
    await this.#o.redis.eval(releaseScript, 1, this.#keys.lease, `${this.#o.id}|${epoch}`)
  }
}
