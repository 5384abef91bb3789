import type { Redis } from '../redis.js'
import type { Holder, LeaseRequest, LogPosition } from './rules.js'

/**
 * One fencing lease in Redis, for the hot-warm pair and for kv-leader's election alike:
 * - `<prefix>:lease:<name>`: a hash `{owner, epoch, client, candidate}` with a TTL;
 * - `<prefix>:lease:<name>:epoch`: the fencing epoch counter, which outlives the lease key;
 * - `<prefix>:lease:<name>:candidates`: for an election, each candidate's published log
 *   position, `logEpoch,logIndex,expiresAtMs,knownEpoch` (Redis time).
 * Every change is one Lua script, so acquire/renew/steal/release are atomic. The scripts
 * enforce the rules of `rules.ts` (`decideAcquire`, `decideSteal`), the pure model that a
 * contract test runs the same table through.
 *
 * `client` is the holder's Redis connection id: when the holder's process dies its connection
 * closes at once, and a contender may take over without waiting for the TTL (`steal`), but only
 * if the holder is still exactly the one it saw dead.
 */
export interface LeaseKeys { lease: string, epoch: string, candidates: string }

export function leaseKeys (prefix: string, name: string): LeaseKeys {
  const lease = `${prefix}:lease:${name}`
  return { lease, epoch: `${lease}:epoch`, candidates: `${lease}:candidates` }
}

export interface LeaseReply {
  granted: boolean
  epoch: number
  owner: string
  client: string
  /** Why a free lease was not taken: `behind:<candidate>` or `no-quorum`; `held` when another holds it. */
  reason: string
}

/** `[granted (1|0), epoch, owner, client, reason]` */
type Reply = [number, number, string, string, string]

// Shared by acquire and steal. ARGV[1..10]: owner, ttlMs, client, floor, resume, election (1|0),
// candidate, logEpoch, logIndex, quorum; `exclude`: a candidate to ignore (a dead holder's).
const take = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function take(exclude, resume)
  local floor = tonumber(ARGV[4])
  local counter = tonumber(redis.call('GET', KEYS[2]) or '-1')
  local resumes = resume > 0 and counter == resume and resume >= floor
  if ARGV[6] == '1' and not resumes then
    local now = nowMs()
    local myE, myI = tonumber(ARGV[8]), tonumber(ARGV[9])
    redis.call('HSET', KEYS[3], ARGV[7], ARGV[8] .. ',' .. ARGV[9] .. ',' .. (now + tonumber(ARGV[2])) .. ',' .. ARGV[4])
    local live = 1
    local all = redis.call('HGETALL', KEYS[3])
    for i = 1, #all, 2 do
      local id = all[i]
      if id ~= ARGV[7] then
        local e, idx, exp, known = string.match(all[i + 1], '^(%d+),(%d+),(%d+),(%d+)$')
        if not e or tonumber(exp) <= now then
          redis.call('HDEL', KEYS[3], id)
        elseif id ~= exclude then
          e = tonumber(e)
          idx = tonumber(idx)
          if e > myE or (e == myE and idx > myI) then return {0, 0, '', '', 'behind:' .. id} end
          live = live + 1
          if tonumber(known) > floor then floor = tonumber(known) end
        end
      end
    end
    if live < tonumber(ARGV[10]) then return {0, 0, '', '', 'no-quorum'} end
  end
  local epoch
  if resumes then epoch = resume else epoch = math.max(counter, floor) + 1 end
  redis.call('SET', KEYS[2], epoch)
  local candidate = ''
  if ARGV[6] == '1' then candidate = ARGV[7] end
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'epoch', epoch, 'client', ARGV[3], 'candidate', candidate)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, epoch, ARGV[1], ARGV[3], ''}
end
`

// KEYS: lease, epoch, candidates. ARGV: as \`take\`.
const acquireScript = take + `
local cur = redis.call('HMGET', KEYS[1], 'owner', 'epoch', 'client')
if cur[1] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'client', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, tonumber(cur[2]), ARGV[1], ARGV[3], ''}
end
if cur[1] then return {0, tonumber(cur[2]), cur[1], cur[3] or '', 'held'} end
return take('', tonumber(ARGV[5]))
`

// KEYS: as acquire. ARGV: as \`take\`, then the holder seen dead: owner, epoch, client.
const stealScript = take + `
local cur = redis.call('HMGET', KEYS[1], 'owner', 'epoch', 'client', 'candidate')
if cur[1] and (cur[1] ~= ARGV[11] or cur[2] ~= ARGV[12] or cur[3] ~= ARGV[13]) then
  return {0, tonumber(cur[2]), cur[1], cur[3] or '', 'held'}
end
return take(cur[4] or '', 0)
`

// KEYS: lease. ARGV: owner, epoch
const releaseScript = `
local cur = redis.call('HMGET', KEYS[1], 'owner', 'epoch')
if cur[1] == ARGV[1] and cur[2] == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`

// KEYS: candidates. ARGV: candidate, logEpoch, logIndex, ttlMs, knownEpoch
const publishScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ',' .. ARGV[3] .. ',' .. (now + tonumber(ARGV[4])) .. ',' .. ARGV[5])
return now
`

function toReply (r: Reply): LeaseReply {
  return { granted: r[0] === 1, epoch: Number(r[1] ?? 0), owner: String(r[2] ?? ''), client: String(r[3] ?? ''), reason: String(r[4] ?? '') }
}

/** The I/O half of a lease: thin wrappers around the scripts. Errors (Redis away) are thrown. */
export class RedisLease {
  readonly #redis: Redis
  readonly #keys: LeaseKeys

  constructor (redis: Redis, keys: LeaseKeys) {
    this.#redis = redis
    this.#keys = keys
  }

  /** Renews our own lease (same epoch), or takes a free one (see `decideAcquire`). */
  async acquire (req: LeaseRequest, ttlMs: number): Promise<LeaseReply> {
    return toReply(await this.#redis.eval(acquireScript, 3, this.#keys.lease, this.#keys.epoch, this.#keys.candidates, ...args(req, ttlMs)) as Reply)
  }

  /** Takes the lease from a holder whose connection is gone, if it is still exactly `seen` (see `decideSteal`). */
  async steal (req: LeaseRequest, ttlMs: number, seen: Pick<Holder, 'owner' | 'epoch' | 'client'>): Promise<LeaseReply> {
    return toReply(await this.#redis.eval(stealScript, 3, this.#keys.lease, this.#keys.epoch, this.#keys.candidates, ...args(req, ttlMs), seen.owner, seen.epoch, seen.client) as Reply)
  }

  async release (owner: string, epoch: number): Promise<boolean> {
    return await this.#redis.eval(releaseScript, 1, this.#keys.lease, owner, epoch) === 1
  }

  /** An election candidate's log position, visible to the others until `ttlMs` from now (Redis time). */
  async publish (candidate: string, position: LogPosition, knownEpoch: number, ttlMs: number): Promise<void> {
    await this.#redis.eval(publishScript, 1, this.#keys.candidates, candidate, position.epoch, position.index, ttlMs, knownEpoch)
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

function args (req: LeaseRequest, ttlMs: number): Array<string | number> {
  const e = req.election
  return [req.owner, ttlMs, req.client, req.floor, req.resume, e === undefined ? 0 : 1, e?.candidate ?? '', e?.position.epoch ?? 0, e?.position.index ?? 0, e?.quorum ?? 0]
}
