import type { Redis } from '../redis.js'

/**
 * The lease in Redis: one hash `{owner, epoch, client}` with a TTL, and a separate counter for
 * the fencing epoch so the epoch keeps rising even after the lease key expired. Every change is
 * one Lua script, so acquire/renew/steal/release are atomic.
 *
 * `client` is the holder's Redis connection id: when the holder's process dies its connection
 * closes at once, and a contender may take over without waiting for the TTL (`steal`), but only
 * if owner, epoch and client are still the ones it saw dead.
 */
export interface LeaseKeys { lease: string, epoch: string }

export function leaseKeys (prefix: string, name: string): LeaseKeys {
  return { lease: `${prefix}:lease:${name}`, epoch: `${prefix}:lease:${name}:epoch` }
}

/** `[granted (1|0), epoch, owner, client]` */
type Reply = [number, number, string, string]

export interface LeaseReply { granted: boolean, epoch: number, owner: string, client: string }

// ARGV: owner, ttlMs, clientId
const acquireScript = `
local cur = redis.call('HMGET', KEYS[1], 'owner', 'epoch', 'client')
if not cur[1] then
  local e = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'epoch', e, 'client', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, e, ARGV[1], ARGV[3]}
end
if cur[1] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'client', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, tonumber(cur[2]), ARGV[1], ARGV[3]}
end
return {0, tonumber(cur[2]), cur[1], cur[3] or ''}
`

// ARGV: owner, ttlMs, clientId, expectedOwner, expectedEpoch, expectedClient
const stealScript = `
local cur = redis.call('HMGET', KEYS[1], 'owner', 'epoch', 'client')
if cur[1] and (cur[1] ~= ARGV[4] or cur[2] ~= ARGV[5] or cur[3] ~= ARGV[6]) then
  return {0, tonumber(cur[2]), cur[1], cur[3] or ''}
end
local e = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'epoch', e, 'client', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, e, ARGV[1], ARGV[3]}
`

// ARGV: owner, epoch
const releaseScript = `
local cur = redis.call('HMGET', KEYS[1], 'owner', 'epoch')
if cur[1] == ARGV[1] and cur[2] == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`

function toReply (r: Reply): LeaseReply {
  return { granted: r[0] === 1, epoch: Number(r[1] ?? 0), owner: String(r[2] ?? ''), client: String(r[3] ?? '') }
}

/** The I/O half of a lease: thin wrappers around the scripts. Errors (Redis away) are thrown. */
export class RedisLease {
  readonly #redis: Redis
  readonly #keys: LeaseKeys

  constructor (redis: Redis, keys: LeaseKeys) {
    this.#redis = redis
    this.#keys = keys
  }

  /** Takes a free lease (new epoch) or renews our own (same epoch). */
  async acquire (owner: string, ttlMs: number, client: string): Promise<LeaseReply> {
    return toReply(await this.#redis.eval(acquireScript, 2, this.#keys.lease, this.#keys.epoch, owner, ttlMs, client) as Reply)
  }

  /** Takes the lease from a holder whose connection is gone, if it is still exactly `seen`. */
  async steal (owner: string, ttlMs: number, client: string, seen: LeaseReply): Promise<LeaseReply> {
    return toReply(await this.#redis.eval(stealScript, 2, this.#keys.lease, this.#keys.epoch, owner, ttlMs, client, seen.owner, seen.epoch, seen.client) as Reply)
  }

  async release (owner: string, epoch: number): Promise<boolean> {
    return await this.#redis.eval(releaseScript, 1, this.#keys.lease, owner, epoch) === 1
  }

  /** This connection's id, recorded in the lease so contenders can see whether we are alive. */
  async clientId (): Promise<string> {
    return String(await this.#redis.client('ID'))
  }

  /**
   * Whether a Redis connection id is still connected. Anything uncertain (no id recorded, CLIENT
   * refused by a managed Redis, a timeout) counts as alive: the TTL then decides, never a guess.
   */
  async clientAlive (client: string): Promise<boolean> {
    if (!/^\d+$/.test(client)) return true
    try {
      const list = await this.#redis.client('LIST', 'ID', client) as string
      return list.trim() !== ''
    } catch {
      return true
    }
  }

  /** The current holder, for tools and tests. */
  async peek (): Promise<{ owner: string, epoch: number } | undefined> {
    const [owner, epoch] = await this.#redis.hmget(this.#keys.lease, 'owner', 'epoch')
    return owner === null || owner === undefined ? undefined : { owner, epoch: Number(epoch) }
  }
}
