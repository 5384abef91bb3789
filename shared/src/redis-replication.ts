import type { ChainableCommander } from 'ioredis'
import { clusterError } from './errors.js'
import { connectionGeneration, redisTargetOf, type Redis } from './redis.js'

/**
 * Building blocks for writes that must survive a Redis failover. Redis replication is
 * asynchronous: a primary acknowledges a write before any replica has it, and Sentinel may
 * promote a replica that missed the last writes. `WAIT n timeout` blocks until `n` replicas
 * acknowledged every write this connection made so far, which narrows what a failover can lose
 * to writes nobody was told succeeded. See docs/redis-ha.md for what each shape must do.
 *
 * WAIT covers the writes of *one connection*. If the client reconnected between the write and
 * the WAIT (a failover happened), the WAIT runs on a new connection that has written nothing and
 * would answer "replicated" for a write that may be gone: every helper here compares the
 * client's connection generation before and after, and reports such a write as unconfirmed.
 */

/** `WAIT numreplicas timeout` on this client's connection: how many replicas acknowledged. */
async function waitForReplicas (redis: Redis, replicas: number, timeoutMs: number): Promise<number> {
  // WAIT 0 ms would block forever
  return Number(await redis.wait(replicas, Math.max(1, Math.ceil(timeoutMs))))
}

/** The replicas a confirmed write needs by this client's REDIS_URL (`minReplicas`; 1 with Sentinel, else 0). */
export function requiredReplicas (redis: Redis): number {
  return redisTargetOf(redis)?.minReplicas ?? 0
}

/** Taken before a write, handed to `confirmReplicated` after it. */
export interface ReplicationMark { generation: number }

export function markBeforeWrite (redis: Redis): ReplicationMark {
  return { generation: connectionGeneration(redis) }
}

export interface ConfirmOptions {
  /** @default requiredReplicas(redis) */
  replicas?: number
  /** How long WAIT may block. @default 500 */
  timeoutMs?: number
}

/**
 * Confirms that the writes made on `redis` since `mark` reached enough replicas; throws a
 * retryable `REDIS_ERR_NOT_REPLICATED` (503) otherwise. With no replica required it returns at
 * once without a round trip, so callers can use it unconditionally. Returns the replica count.
 *
 * Unconfirmed does not mean lost: the write may still be on the primary and reach the replica
 * later. Callers must treat it as "unknown" (answer 503 and let the client retry an idempotent
 * request; never act on a lease or epoch that was not confirmed).
 */
export async function confirmReplicated (redis: Redis, mark: ReplicationMark, opts: ConfirmOptions = {}): Promise<number> {
  const replicas = opts.replicas ?? requiredReplicas(redis)
  if (replicas <= 0) return 0
  const timeoutMs = opts.timeoutMs ?? 500
  const acked = await waitForReplicas(redis, replicas, timeoutMs)
  if (connectionGeneration(redis) !== mark.generation) {
    throw clusterError('REDIS_ERR_NOT_REPLICATED', 'the Redis connection was re-established during the write (failover?): its replication is unknown', { retryable: true })
  }
  if (acked < replicas) {
    throw clusterError('REDIS_ERR_NOT_REPLICATED', `the write reached ${acked} of ${replicas} required Redis replica(s) within ${timeoutMs} ms`, { retryable: true })
  }
  return acked
}

/**
 * Confirms that everything this client *read* since `mark` — writes of other connections
 * included — is on the required replicas, before the caller acts on it (a mark it trims to, a
 * feed entry it applies, a duplicate it acknowledges). A read leaves WAIT nothing to wait for,
 * so a small write to `fenceKey` comes first: the replication stream is one sequence, and the
 * fence's place in it is after every write the read could have seen. Throws like
 * `confirmReplicated`; returns at once, without a round trip, when no replica is required.
 */
export async function confirmSeenReplicated (redis: Redis, mark: ReplicationMark, fenceKey: string, opts: ConfirmOptions = {}): Promise<number> {
  const replicas = opts.replicas ?? requiredReplicas(redis)
  if (replicas <= 0) return 0
  await redis.set(fenceKey, '1', 'PX', 60_000)
  return await confirmReplicated(redis, mark, { ...opts, replicas })
}

/**
 * Runs a pipeline (or MULTI) built by `build`, then confirms it reached the required replicas.
 * Returns the replies of the built commands; a command error is thrown as is.
 *
 * @example
 *   const [[id]] = await execReplicated(redis, (p) => p.xadd(stream, '*', 'account', a, 'amount', n))
 */
export async function execReplicated (redis: Redis, build: (tx: ChainableCommander) => void, opts: ConfirmOptions & { transaction?: boolean } = {}): Promise<unknown[]> {
  const mark = markBeforeWrite(redis)
  const tx = opts.transaction === true ? redis.multi() : redis.pipeline()
  build(tx)
  const results = (await tx.exec()) ?? []
  for (const [err] of results) if (err !== null) throw err
  await confirmReplicated(redis, mark, opts)
  return results.map(([, value]) => value)
}

// KEYS[1] = counter; ARGV[1] = floor. The new value is above both the stored one and the floor.
const bumpScript = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if floor > cur then cur = floor end
cur = cur + 1
redis.call('SET', KEYS[1], cur)
return cur
`

/**
 * The next fencing epoch from a counter in Redis, never below `atLeast` + 1, confirmed on the
 * required replicas before it is returned. `atLeast` is the highest epoch the caller saw
 * anywhere else (its peers, the sink, its own last term): a promoted replica that missed the
 * last increments then cannot hand out an epoch that was already used.
 */
export async function nextEpoch (redis: Redis, key: string, opts: ConfirmOptions & { atLeast?: number } = {}): Promise<number> {
  const mark = markBeforeWrite(redis)
  const epoch = Number(await redis.eval(bumpScript, 1, key, String(Math.max(0, Math.floor(opts.atLeast ?? 0)))))
  await confirmReplicated(redis, mark, opts)
  return epoch
}

/**
 * Whether a failed Redis write may nevertheless have happened (the outcome is unknown), as
 * opposed to certainly not: an error reply (READONLY, OOM, a script's own error) means Redis
 * refused it, and a client that was not connected never sent it. Anything else — the connection
 * closed while the command was in flight, a WAIT that did not confirm — may have written.
 */
export function mayHaveWritten (err: unknown): boolean {
  const e = err as { name?: string, code?: string, message?: string }
  if (e.code === 'REDIS_ERR_NOT_REPLICATED') return true
  if (e.name === 'ReplyError') return false
  return !/isn't writeable|enableOfflineQueue/.test(e.message ?? '')
}
