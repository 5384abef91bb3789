import type { Redis } from '../../../../shared/src/redis.js'
import { LuaScript } from '../../../../shared/src/pipeline/script.js'
import { parseStored, pipelineKeys, type PipelineKeys } from '../../../../shared/src/pipeline/keys.js'
import { fingerprint, pairNames, type ClaimOutcome, type Output, type PairName } from '../../../../shared/src/pipeline/types.js'
import { confirmSeenReplicated, markBeforeWrite } from '../../../../shared/src/redis-replication.js'
import type { OutputBatch } from '../core/batch.js'

/** Keeps at most this many conflict records per pair (newest first). */
const conflictLogLength = 100

const compareIdsLua = `
local function after (a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  if am ~= bm then return am > bm end
  return as > bs
end
`

// The fencing rule of core/fencing.ts (`fenceVerdict`), shared by both scripts. KEYS[1] = stats.
const fenceLua = `
local function fence (epoch, holder)
  local cur = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0')
  local h = redis.call('HGET', KEYS[1], 'holder') or ''
  if epoch < cur then return 'older', cur, h end
  if epoch > cur then return 'newer', cur, h end
  if epoch > 0 and h ~= '' and h ~= holder then return 'taken', cur, h end
  return 'current', cur, h
end
`

/*
 * One batch, atomically (`decideIngest`). KEYS: stats, outputs, conflicts, then one account list
 * per output. ARGV: epoch, holder, conflictLogLength, then (inputId, fingerprint, json) per output.
 * A fenced epoch (older, or the newest but another holder's) rejects the whole batch. Otherwise
 * each output is stored if first for its input id, dropped as a duplicate if identical, counted
 * as a conflict if different. The high-water mark is the highest input id stored.
 */
const ingestScript = new LuaScript(compareIdsLua + fenceLua + `
local epoch, holder = tonumber(ARGV[1]), ARGV[2]
local n = (#ARGV - 3) / 3
local hwm = redis.call('HGET', KEYS[1], 'highWaterMark') or '0-0'
local verdict, cur, h = fence(epoch, holder)
if verdict == 'older' or verdict == 'taken' then
  redis.call('HINCRBY', KEYS[1], 'staleEpochRejected', n)
  return {verdict, cur, 0, 0, 0, hwm, {}}
end
if verdict == 'newer' or (epoch > 0 and h == '') then
  if epoch > 0 then h = holder else h = '' end
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'holder', h)
end
local accepted = tonumber(redis.call('HGET', KEYS[1], 'acceptedEpoch') or '-1')
if epoch > accepted then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'acceptedEpoch', epoch, 'acceptedEpochAt', t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)))
end
local stored, dups, conflicts, conflictIds = 0, 0, 0, {}
for i = 1, n do
  local id, fp, json = ARGV[i * 3 + 1], ARGV[i * 3 + 2], ARGV[i * 3 + 3]
  local existing = redis.call('HGET', KEYS[2], id)
  if not existing then
    redis.call('HSET', KEYS[2], id, fp .. '\\t' .. json)
    redis.call('RPUSH', KEYS[3 + i], id)
    stored = stored + 1
    if after(id, hwm) then hwm = id end
  else
    local tab = string.find(existing, '\\t', 1, true)
    if string.sub(existing, 1, tab - 1) == fp then
      dups = dups + 1
    else
      conflicts = conflicts + 1
      conflictIds[#conflictIds + 1] = id
      redis.call('LPUSH', KEYS[3], id .. ' stored=' .. string.sub(existing, 1, tab - 1) .. ' got=' .. fp .. ' epoch=' .. ARGV[1])
      redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1)
    end
  end
end
if stored > 0 then
  redis.call('HINCRBY', KEYS[1], 'outputs', stored)
  redis.call('HSET', KEYS[1], 'highWaterMark', hwm)
end
if dups > 0 then redis.call('HINCRBY', KEYS[1], 'duplicatesDropped', dups) end
if conflicts > 0 then redis.call('HINCRBY', KEYS[1], 'conflicts', conflicts) end
return {'ok', epoch, stored, dups, conflicts, hwm, conflictIds}
`)

/*
 * A new hot announces its epoch before re-emitting (`decideClaim`): from then on every older
 * epoch, and this one from another holder, is refused; it learns the high-water mark to
 * re-emit from. Epoch 0 only reads. KEYS: stats. ARGV: epoch, holder.
 */
const claimScript = new LuaScript(fenceLua + `
local epoch, holder = tonumber(ARGV[1]), ARGV[2]
local hwm = redis.call('HGET', KEYS[1], 'highWaterMark') or '0-0'
local verdict, cur, h = fence(epoch, holder)
if epoch == 0 then return {'read', cur, hwm} end
if verdict == 'older' or verdict == 'taken' then return {verdict, cur, hwm} end
if verdict == 'newer' or h == '' then redis.call('HSET', KEYS[1], 'epoch', epoch, 'holder', holder) end
return {'claimed', epoch, hwm}
`)

export interface IngestResult {
  /** The whole batch was refused: `older` than the pair's newest epoch, or that epoch `taken` by another holder. */
  stale: false | 'older' | 'taken'
  /** The pair's newest epoch after this batch. */
  epoch: number
  stored: number
  duplicatesDropped: number
  conflicts: number
  highWaterMark: string
  conflictIds: string[]
}

export interface ClaimResult {
  outcome: ClaimOutcome
  /** The pair's newest epoch after the claim. */
  epoch: number
  highWaterMark: string
}

export interface PairStats {
  outputs: number
  duplicatesDropped: number
  conflicts: number
  staleEpochRejected: number
  highWaterMark: string
  epoch: number
  /** The lease holder that claimed `epoch` ('' for the hot-hot pair). */
  holder: string
  /** The newest epoch whose output was accepted, and when (ms since the epoch, Redis clock). */
  acceptedEpoch: number
  acceptedEpochAt: number
}

/**
 * The sink's state, all in Redis: any sink instance can take any batch. Every answer that a
 * ledger acts on (a batch accepted, a claim, a mark it trims to) is confirmed on the Redis
 * replicas first (`confirmSeenReplicated`; nothing with one Redis): a failover then cannot take
 * back an output the ledger was told is stored, nor a mark or an epoch it acted on.
 */
export class SinkStore {
  readonly #redis: Redis
  readonly #keys: PipelineKeys
  readonly #waitMs: number

  constructor (redis: Redis, prefix: string, { waitMs = 500 }: { waitMs?: number } = {}) {
    this.#redis = redis
    this.#keys = pipelineKeys(prefix)
    this.#waitMs = waitMs
  }

  async ingest (batch: OutputBatch): Promise<IngestResult> {
    const k = this.#keys.pair(batch.pair)
    const keys = [k.stats, k.outputs, k.conflicts, ...batch.outputs.map((o) => k.account(o.account))]
    const args: Array<string | number> = [batch.epoch, batch.holder, conflictLogLength]
    for (const o of batch.outputs) {
      const stored: Output = { pair: batch.pair, inputId: o.inputId, account: o.account, amount: o.amount, balance: o.balance, epoch: batch.epoch, instance: batch.instance }
      args.push(o.inputId, fingerprint(o), JSON.stringify(stored))
    }
    const r = await this.#confirmed(async () => await ingestScript.run(this.#redis, keys, args)) as [string, number, number, number, number, string, string[]]
    const stale = r[0] === 'older' || r[0] === 'taken' ? r[0] : false
    return { stale, epoch: Number(r[1]), stored: r[2], duplicatesDropped: r[3], conflicts: r[4], highWaterMark: r[5], conflictIds: r[6] }
  }

  /** Announces `epoch` for `holder` (see `decideClaim`); epoch 0 only reads the mark. */
  async claim (pair: PairName, epoch: number, holder: string): Promise<ClaimResult> {
    const [outcome, current, hwm] = await this.#confirmed(async () => await claimScript.run(this.#redis, [this.#keys.pair(pair).stats], [epoch, holder])) as [ClaimOutcome, number, string]
    return { outcome, epoch: Number(current), highWaterMark: hwm }
  }

  /** Runs `write`, then confirms on the replicas everything it wrote or saw. */
  async #confirmed (write: () => Promise<unknown>): Promise<unknown> {
    const mark = markBeforeWrite(this.#redis)
    const result = await write()
    await confirmSeenReplicated(this.#redis, mark, this.#keys.fence, { timeoutMs: this.#waitMs })
    return result
  }

  async stats (pair: PairName): Promise<PairStats> {
    const h = await this.#redis.hgetall(this.#keys.pair(pair).stats)
    const n = (field: string, fallback = 0): number => h[field] === undefined ? fallback : Number(h[field])
    return {
      outputs: n('outputs'),
      duplicatesDropped: n('duplicatesDropped'),
      conflicts: n('conflicts'),
      staleEpochRejected: n('staleEpochRejected'),
      highWaterMark: h.highWaterMark ?? '0-0',
      epoch: n('epoch'),
      holder: h.holder ?? '',
      acceptedEpoch: n('acceptedEpoch', -1),
      acceptedEpochAt: n('acceptedEpochAt')
    }
  }

  async allStats (): Promise<Record<PairName, PairStats>> {
    const entries = await Promise.all(pairNames.map(async (pair) => [pair, await this.stats(pair)] as const))
    return Object.fromEntries(entries) as Record<PairName, PairStats>
  }

  async conflicts (pair: PairName): Promise<string[]> {
    return await this.#redis.lrange(this.#keys.pair(pair).conflicts, 0, -1)
  }

  /** The outputs stored for one account, in feed order. */
  async outputs (pair: PairName, account: string, offset: number, limit: number): Promise<{ total: number, outputs: Output[] }> {
    const k = this.#keys.pair(pair)
    const [total, ids] = await Promise.all([this.#redis.llen(k.account(account)), this.#redis.lrange(k.account(account), offset, offset + limit - 1)])
    if (ids.length === 0) return { total, outputs: [] }
    const raws = await this.#redis.hmget(k.outputs, ...ids)
    const outputs = raws.filter((r): r is string => r !== null).map((r) => JSON.parse(parseStored(r).json) as Output)
    return { total, outputs }
  }
}
